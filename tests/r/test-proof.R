# Proof beyond two ports, in R: gradient checks, extremes, divergence.

test_that("backprop matches finite differences on every fixture but saturated.json", {
  # Its inputs reach 300 and its units are saturated: the finite differences err by 6e-6
  # (relative) at h = 1e-3, and by more at smaller h (test_proof.py says more).
  for (path in nn_fixture_paths[basename(nn_fixture_paths) != "saturated.json"]) {
    f <- nn_load_fixture(path)
    expect_lt(nn_gradient_check(f$layers, f$X, f$y), 1e-6, label = basename(path))
  }
})

# A random network (1 to 3 hidden layers) and data, relu's inputs kept off its kink.
random_network <- function(activation) {
  repeat {
    sizes <- sample(1:5, sample(3:5, 1), replace = TRUE)
    layers <- lapply(seq_len(length(sizes) - 1), function(k) {
      list(
        weights = matrix(rnorm(sizes[k] * sizes[k + 1], 0, 0.8), sizes[k]),
        bias = if (runif(1) < 0.7) rnorm(sizes[k + 1], 0, 0.5) else NULL,
        activation = if (k < length(sizes) - 1) activation else sample(names(nn_activations), 1)
      )
    })
    X <- matrix(rnorm(sample(1:7, 1) * sizes[1]), ncol = sizes[1])
    y <- matrix(runif(nrow(X) * sizes[length(sizes)]), nrow(X))
    forward <- nn_forward(layers, X)
    relu <- vapply(layers, function(layer) layer$activation == "relu", TRUE)
    if (all(vapply(forward$layer_input[relu], function(z) min(abs(z)) > 1e-2, TRUE))) {
      return(list(layers = layers, X = X, y = y))
    }
  }
}

test_that("backprop matches finite differences on random networks of every activation", {
  set.seed(2024)
  for (activation in names(nn_activations)) {
    for (i in 1:25) {
      network <- random_network(activation)
      expect_lt(nn_gradient_check(network$layers, network$X, network$y), 1e-6, label = activation)
    }
  }
})

test_that("the gradient check catches a wrong derivative", {
  f <- nn_load_fixture("tanh")
  expect_lt(nn_gradient_check(f$layers, f$X, f$y), 1e-6)
  wrong <- nn_activations
  wrong$tanh$slope <- function(a) 1 - a # tanh's slope is 1 - a^2
  right <- nn_replace("nn_activations", wrong)
  on.exit(nn_replace("nn_activations", right))
  expect_gt(nn_gradient_check(f$layers, f$X, f$y), 1e-2)
})

test_that("saturated activations give no warnings and no NaN", {
  z <- matrix(c(-800, -400, 0, 400, 800), 1)
  expect_silent(sigmoid <- nn_sigmoid(z))
  expect_identical(sigmoid[c(1, 3:5)], c(0, 0.5, 1, 1))
  expect_true(sigmoid[2] > 0 && sigmoid[2] < 1e-173)
  expect_identical(nn_tanh(z), matrix(c(-1, -1, 0, 1, 1), 1))
  for (name in names(nn_activations)) {
    activation <- nn_activations[[name]]
    expect_true(all(is.finite(activation$slope(activation$f(z)))))
  }
})

# A snapshot: epoch 65 is where this run's loss first overflows, as nnscratch computed it
# once; tests/test_proof.py holds both languages to the same message.
test_that("training that diverges stops at the first loss that is not finite", {
  f <- nn_load_fixture("linear_output")
  expect_error(nn_train(f$layers, f$X, f$y, 5, 100),
               paste("lr: training diverged: in epoch 65, iteration 1, the loss is not finite;",
                     "a smaller lr may help"), fixed = TRUE, class = "nnscratch_input_error")
})

test_that("a single sample and a single feature", {
  layers <- nn_init_layers(c(1, 2, 1), "sigmoid", 5)
  result <- nn_train(layers, matrix(0.5), matrix(1), 0.5, 20, trace = TRUE)
  expect_identical(dim(result$trace$layers[[1]]$delta), c(20L, 1L, 2L))
  expect_lt(result$loss[20], result$loss[1])
  expect_lt(nn_gradient_check(layers, matrix(0.5), matrix(1)), 1e-6)
})
