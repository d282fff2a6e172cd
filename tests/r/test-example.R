# r/article_example.R, as RStudio runs it (working directory: the repository root). The
# files of the checkout are not in the R package: R CMD check skips these.

test_that("r/article_example.R runs from the repository root", {
  skip_if_not(nn_in_checkout, "a file of the checkout")
  old <- setwd(nn_root)
  on.exit(setwd(old))
  output <- capture.output(source("r/article_example.R", local = new.env()))
  # The losses as the article's own loop, written out in the helper, gives them.
  reference <- reference_article_loop(nn_article())
  shown <- c(1, seq(500, 5000, by = 500))
  expect_identical(grep("^epoch ", output, value = TRUE),
                   sprintf("epoch %5d  loss %.6f", shown, reference$losses[shown]))
  expect_true(any(grepl("target +output", output)))
})

test_that("r/article_example.R elsewhere says where to run it", {
  skip_if_not(nn_in_checkout, "a file of the checkout")
  old <- setwd(tempdir())
  on.exit(setwd(old))
  expect_error(source(file.path(nn_root, "r", "article_example.R"), local = new.env()),
               "run this from the repository root")
})

test_that("nnscratch.Rproj and DESCRIPTION declare the R side", {
  skip_if_not(nn_in_checkout, "a file of the checkout")
  expect_true(file.exists(file.path(nn_root, "nnscratch.Rproj")))
  description <- read.dcf(file.path(nn_root, "DESCRIPTION"))
  expect_match(description[, "Imports"], "jsonlite")
  expect_match(description[, "Suggests"], "testthat")
})
