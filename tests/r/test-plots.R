# Plots, written as PNG files with base graphics. Their pixels (the classes' colours, the
# two sides of the boundary) are checked by tests/test_plots.py, which draws with R too.

png_size <- function(path) {
  bytes <- readBin(path, "raw", 24)
  expect_identical(bytes[1:8], as.raw(c(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)))
  big_endian <- function(b) sum(as.integer(b) * 256^(3:0))
  c(big_endian(bytes[17:20]), big_endian(bytes[21:24]))
}

test_that("the loss, and for two features the decision boundary, as a PNG", {
  for (name in c("xor", "blobs", "article")) {
    f <- nn_load_fixture(name)
    f$epochs <- 50L
    path <- tempfile(fileext = ".png")
    nn_plot_training(nn_train_fixture(f), f, path)
    expect_identical(png_size(path), if (name == "article") c(600, 450) else c(1100, 450))
  }
})

test_that("dpi sets the size, the same run draws the same bytes, log_scale another picture", {
  f <- nn_load_fixture("xor")
  f$epochs <- 50L
  result <- nn_train_fixture(f)
  paths <- replicate(3, tempfile(fileext = ".png"))
  nn_plot_training(result, f, paths[1], log_scale = TRUE, dpi = 150)
  nn_plot_training(result, f, paths[2], log_scale = TRUE, dpi = 150)
  nn_plot_training(result, f, paths[3], dpi = 150)
  bytes <- lapply(paths, function(path) readBin(path, "raw", file.size(path)))
  expect_identical(png_size(paths[1]), c(1650, 675))
  expect_identical(bytes[[1]], bytes[[2]])
  expect_false(identical(bytes[[1]], bytes[[3]]))
  expect_error(nn_plot_training(result, f, paths[1], dpi = 0),
               "dpi: must be a whole number, 1 or more; got 0.0", fixed = TRUE)
})

test_that("the title gives the settings and the accuracy", {
  f <- nn_load_fixture("xor")
  f$epochs <- 50L
  result <- nn_train_fixture(f)
  # The share of samples on the right side of 0.5, counted here rather than by the code.
  right <- mean((nn_predict(result$layers, f$X)[, 1] >= 0.5) == (f$y[, 1] == 1))
  expect_identical(nn_plot_title(result, f),
                   sprintf("xor: lr 0.5, 50 epochs, accuracy %.4f", right))
})
