# The data set fixtures.

test_that("fixtures/iris.json holds R's datasets::iris", {
  f <- nn_load_fixture("iris")
  expect_identical(f$X, unname(as.matrix(datasets::iris[, 1:4])))
  expect_identical(max.col(f$y), as.integer(datasets::iris$Species))
  expect_true(all(rowSums(f$y) == 1))
})

test_that("the data sets are what their descriptions say", {
  moons <- nn_load_fixture("moons")
  expect_identical(dim(moons$X), c(1000L, 2L))
  expect_identical(range(moons$X[, 1]), c(0, 1))
  expect_identical(range(moons$X[, 2]), c(0, 1))
  expect_identical(as.vector(table(moons$y)), c(500L, 500L))
  blobs <- nn_load_fixture("blobs")
  expect_identical(colSums(blobs$y), c(50, 50, 50))
  xor <- nn_load_fixture("xor")
  expect_identical(xor$y[, 1], as.numeric(xor(xor$X[, 1] == 1, xor$X[, 2] == 1)))
})
