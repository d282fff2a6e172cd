# The article's R loop, its steps written out as the benchmark's baseline, and timing
# helpers. bench/bench.py sources this file into the R session it drives (rpy2), and
# bench/r_worker.R into the R processes it times the table with.

#' The article's steps written out bare, as bench.py's article_numpy_loop: what nn_train
#' is measured against.
#'
#' The article's R listing, its errata corrected so that it computes what nn_train
#' computes: the biases are vectors added to every row and moved by colSums (the listing
#' keeps one row of bias per sample and moves it by rowSums). The products are written as
#' the article writes them, t(A) %*% B.
#'
#' @param X numeric matrix, n_samples x n_features.
#' @param y numeric matrix, n_samples x n_outputs.
#' @param w_hidden,b_hidden,w_out,b_out the two layers' weights (matrices) and biases.
#' @param lr learning rate.
#' @param epochs number of full-batch updates.
#' @return list(w_hidden, b_hidden, w_out, b_out) after training.
bare_loop <- function(X, y, w_hidden, b_hidden, w_out, b_out, lr, epochs) {
  n <- nrow(X)
  for (epoch in seq_len(epochs)) {
    hidden <- 1 / (1 + exp(-(X %*% w_hidden + rep(b_hidden, each = n))))
    output <- 1 / (1 + exp(-(hidden %*% w_out + rep(b_out, each = n))))
    error <- y - output
    delta_out <- error * (output * (1 - output))
    delta_hidden <- (delta_out %*% t(w_out)) * (hidden * (1 - hidden))
    w_out <- w_out + t(hidden) %*% delta_out * lr
    b_out <- b_out + colSums(delta_out) * lr
    w_hidden <- w_hidden + t(X) %*% delta_hidden * lr
    b_hidden <- b_hidden + colSums(delta_hidden) * lr
  }
  list(w_hidden = w_hidden, b_hidden = b_hidden, w_out = w_out, b_out = b_out)
}

# Seconds of each of `repeats` runs of `run()`, the two runs interleaved: the same load
# of a noisy machine falls on both.
time_pair <- function(first, second, repeats) {
  times <- matrix(0, repeats, 2)
  for (i in seq_len(repeats)) {
    times[i, 1] <- system.time(first())[["elapsed"]]
    times[i, 2] <- system.time(second())[["elapsed"]]
  }
  times
}

time_r_trace <- function(layers, X, y, lr, epochs, repeats) {
  time_pair(
    function() nn_train(layers, X, y, lr, epochs, trace = TRUE),
    function() nn_train(layers, X, y, lr, epochs),
    repeats
  )
}

# Peak resident memory of this R process, in MB (Linux).
peak_memory_mb <- function() {
  status <- readLines("/proc/self/status")
  as.numeric(sub("[^0-9]*([0-9]+).*", "\\1", grep("^VmHWM", status, value = TRUE))) / 1024
}
