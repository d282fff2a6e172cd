# The article's example in R: train fixtures/article.json and watch the loss fall.
#
# Run it from the repository root: open nnscratch.Rproj in RStudio and source this
# file, or `Rscript r/article_example.R` in a shell.

if (!file.exists("r/nnscratch.R")) {
  stop("run this from the repository root (open nnscratch.Rproj in RStudio, or cd there first)",
       call. = FALSE)
}
source("r/nnscratch.R")

fixture <- nn_load_fixture("fixtures/article.json")
result <- nn_train(fixture$layers, fixture$X, fixture$y, fixture$lr, fixture$epochs)

cat(sprintf("%s: %d samples, %d features, lr %g\n",
            fixture$name, nrow(fixture$X), ncol(fixture$X), fixture$lr))
shown <- unique(c(1, seq(500, fixture$epochs, by = 500)))
for (epoch in shown[shown <= fixture$epochs]) {
  cat(sprintf("epoch %5d  loss %.6f\n", epoch, result$loss[epoch]))
}
output <- nn_predict(result$layers, fixture$X)
cat("\nfinal output beside the target:\n")
print(cbind(target = fixture$y[, 1], output = output[, 1]))
