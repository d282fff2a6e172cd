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
    f <- nn_load_fixture(file.path(nn_root, "fixtures", paste0(name, ".json")))
    f$epochs <- 50L
    path <- tempfile(fileext = ".png")
    nn_plot_training(nn_train_fixture(f), f, path)
    expect_identical(png_size(path), if (name == "article") c(600, 450) else c(1100, 450))
  }
})
