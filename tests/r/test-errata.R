# The article's errata, each shown on fixtures/article.json against nnscratch's
# update, which follows the mathematics (README, "The article's errata").

first_epoch <- function(fixture) {
  nn_train(fixture$layers, fixture$X, fixture$y, fixture$lr, 1, trace = TRUE)$trace
}

test_that("the article's R listing fills the bias matrix with one bias per sample", {
  fixture <- nn_article()
  b <- fixture$layers[[1]]$bias
  n <- nrow(fixture$X)
  # The listing repeats the biases once per sample and fills the matrix by column.
  by_column <- matrix(rep(b, n), nrow = n, byrow = FALSE)
  expect_identical(by_column[1, ], rep(b[1], 3))
  expect_false(isTRUE(all.equal(by_column[1, ], b)))
  # Filled by row, every sample gets every unit's own bias, as Z = X W + b means.
  by_row <- matrix(rep(b, n), nrow = n, byrow = TRUE)
  expect_identical(by_row[2, ], b)
})

test_that("the article's R bias update sums per sample and disagrees with the per-neuron update", {
  fixture <- nn_article()
  trace <- first_epoch(fixture)
  lr <- fixture$lr
  b <- fixture$layers[[1]]$bias
  n <- nrow(fixture$X)
  delta <- trace$layers[[1]]$delta[1, , ]
  # Even from a correctly filled bias matrix, the listing's rowSums update adds each
  # sample's summed delta to that sample's row...
  article <- matrix(rep(b, n), nrow = n, byrow = TRUE) + rowSums(delta) * lr
  per_neuron <- trace$layers[[1]]$bias[1, 1, ]
  # ...so the rows part ways: a bias per sample, no longer one per unit.
  expect_gt(max(abs(article[1, ] - article[3, ])), 1e-3)
  expect_gt(max(abs(sweep(article, 2, per_neuron))), 1e-3)
  # nnscratch sums each unit's delta over the samples (colSums), as the gradient does.
  expect_identical(per_neuron, b + lr * colSums(delta))
  # The output bias alike.
  delta_out <- trace$layers[[2]]$delta[1, , ]
  b_out <- fixture$layers[[2]]$bias
  expect_false(isTRUE(all.equal(rep(b_out, n) + rowSums(matrix(delta_out)) * lr,
                                rep(trace$layers[[2]]$bias[1, 1, ], n))))
})

test_that("the article's step 7 walkthrough applies the learning rate twice", {
  fixture <- nn_article()
  trace <- first_epoch(fixture)
  lr <- fixture$lr
  W <- fixture$layers[[2]]$weights
  hidden <- trace$layers[[1]]$activation[1, , ]
  # The walkthrough scales d_output by lr, then the weight update by lr again.
  d_output_walkthrough <- trace$layers[[2]]$delta[1, , ] * lr
  walkthrough <- W + (t(hidden) %*% d_output_walkthrough) * lr
  nnscratch <- matrix(trace$layers[[2]]$weights[1, , ])
  expect_equal(walkthrough - W, lr * (nnscratch - W), tolerance = 1e-12)
  expect_gt(max(abs(walkthrough - nnscratch)), 1e-4)
})

test_that("the article's step 11 bullet would move the hidden bias by the output delta", {
  fixture <- nn_article()
  trace <- first_epoch(fixture)
  lr <- fixture$lr
  b <- fixture$layers[[1]]$bias
  bullet <- b + sum(trace$layers[[2]]$delta[1, , ]) * lr
  # One number added to every hidden unit, instead of each unit's own delta.
  expect_length(unique(bullet - b), 1)
  expect_gt(max(abs(bullet - trace$layers[[1]]$bias[1, 1, ])), 1e-4)
})
