# The variants in R alone: activations, the generator, initialisation, batches,
# networks without bias, several outputs, expected values.

fixture <- function(name) nn_load_fixture(name)

test_that("each slope is the derivative, written from the output", {
  z <- matrix(c(-2.5, 0.9, -0.7, 1.7, 0.3, 3.1), 2) # away from relu's kink at 0
  h <- 1e-6
  for (name in names(nn_activations)) {
    activation <- nn_activations[[name]]
    numerical <- (activation$f(z + h) - activation$f(z - h)) / (2 * h)
    expect_equal(activation$slope(activation$f(z)), numerical, tolerance = 1e-7, label = name)
  }
})

test_that("relu and linear at the edges", {
  z <- matrix(c(-1, 0, 2), 1)
  expect_identical(nn_relu(z), matrix(c(0, 0, 2), 1))
  expect_identical(nn_relu_slope(nn_relu(z)), matrix(c(0, 0, 1), 1)) # 0 at exactly 0
  expect_identical(nn_linear(z), z)
  expect_identical(nn_linear_slope(z), matrix(1, 1, 3))
  expect_identical(nn_tanh(c(-400, 400)), c(-1, 1))
})

test_that("the generator is the minimal standard one", {
  # Park and Miller (1988): from seed 1, the 10,000th state is 1043618065.
  state <- 1
  states <- numeric(10000)
  for (i in 1:10000) {
    state <- nn_lehmer_next(state)
    states[i] <- state
  }
  expect_identical(states[1:3], c(16807, 282475249, 1622650073))
  expect_identical(states[10000], 1043618065)
  uniform <- nn_lehmer_uniform(1, 10000)
  expect_identical(uniform$state, 1043618065)
  expect_identical(uniform$draws[1], (16807 - 1) / (nn_lehmer_modulus - 1))
  expect_true(min(uniform$draws) >= 0 && max(uniform$draws) < 1)
  expect_lt(abs(mean(uniform$draws) - 0.5), 0.01)
})

test_that("shuffling gives a permutation that depends on the seed", {
  shuffled <- nn_lehmer_shuffle(10, 42)
  expect_identical(sort(shuffled$order), 1:10)
  expect_identical(shuffled$state, nn_lehmer_uniform(42, 9)$state)
  expect_identical(nn_lehmer_shuffle(10, 42)$order, shuffled$order)
  expect_false(identical(nn_lehmer_shuffle(10, 43)$order, shuffled$order))
  expect_identical(nn_lehmer_shuffle(1, 42), list(order = 1L, state = 42))
})

test_that("nn_init_layers: uniform and glorot", {
  uniform <- nn_init_layers(c(4, 3, 1), "sigmoid", 42)
  expect_equal(lapply(uniform, function(layer) dim(layer$weights)), list(c(4, 3), c(3, 1)))
  draws <- nn_lehmer_uniform(42, 12 + 3 + 3 + 1)$draws
  # Layer by layer, the weights row by row, then the bias.
  expect_identical(as.vector(t(uniform[[1]]$weights)), draws[1:12])
  expect_identical(uniform[[1]]$bias, draws[13:15])
  expect_identical(as.vector(uniform[[2]]$weights), draws[16:18])
  expect_identical(uniform[[2]]$bias, draws[19])
  glorot <- nn_init_layers(c(4, 5, 2), c("tanh", "linear"), 7, method = "glorot")
  expect_identical(vapply(glorot, `[[`, "", "activation"), c("tanh", "linear"))
  for (layer in glorot) {
    limit <- sqrt(6 / sum(dim(layer$weights)))
    expect_true(all(abs(layer$weights) <= limit))
    expect_gt(max(abs(layer$weights)), limit / 2)
    expect_identical(layer$bias, numeric(ncol(layer$weights)))
  }
  no_bias <- nn_init_layers(c(4, 3, 1), "sigmoid", 42, bias = FALSE)
  expect_null(no_bias[[1]]$bias)
  expect_true("bias" %in% names(no_bias[[1]]))
  expect_identical(no_bias[[1]]$weights, uniform[[1]]$weights)
})

expect_field <- function(expr, field, problem) {
  error <- tryCatch(expr, nnscratch_input_error = function(e) e)
  expect_s3_class(error, "nnscratch_input_error")
  expect_identical(error$field, field)
  expect_identical(error$problem, problem)
}

test_that("nn_init_layers refuses bad arguments, as in Python", {
  expect_field(nn_init_layers(4, "sigmoid", 1), "sizes",
               "must give at least two sizes (inputs and outputs)")
  expect_field(nn_init_layers(c(4, 0, 1), "sigmoid", 1), "sizes[2]",
               "must be a whole number, 1 or more; got 0.0")
  expect_field(nn_init_layers(c(4, 3, 1), rep("tanh", 3), 1), "activations",
               "has 3 names, but there are 2 layers; give one per layer, or one for all")
  expect_field(nn_init_layers(c(4, 1), "sigmoid", 0), "seed",
               "must be a whole number, from 1 to 2147483646; got 0.0")
  expect_field(nn_init_layers(c(4, 1), "softmax", 1), "layers[1].activation",
               "unknown activation 'softmax'; known: sigmoid, tanh, relu, linear")
  expect_field(nn_init_layers(c(4, 1), "sigmoid", 1, method = "he"), "method",
               "unknown method 'he'; known: uniform, glorot")
})

test_that("mini-batches cover every sample once per epoch", {
  f <- fixture("minibatch") # 10 samples, batches of 4, shuffled
  result <- nn_train_fixture(f, trace = TRUE)
  trace <- result$trace
  expect_length(trace$loss, f$epochs * 3)
  expect_identical(trace$epoch[1:6], c(1L, 1L, 1L, 2L, 2L, 2L))
  expect_identical(trace$iteration[1:6], c(1L, 2L, 3L, 1L, 2L, 3L))
  expect_identical(dim(trace$samples), c(f$epochs * 3L, 4L))
  for (epoch in seq_len(f$epochs)) {
    samples <- as.vector(trace$samples[3 * epoch - 2:0, ])
    expect_identical(sort(samples[samples > 0]), 1:10)
    expect_identical(trace$samples[3 * epoch, 3:4], c(0L, 0L)) # the last batch holds 2
  }
  expect_false(identical(trace$samples[1, ], trace$samples[4, ]))
  expect_true(all(is.na(trace$layers[[1]]$delta[3, 3:4, ])))
  table <- nn_trace_table(trace)
  delta <- table[table$quantity == "delta" & table$layer == 1 & table$epoch == 1, ]
  expect_identical(as.vector(table(delta$iteration)), c(16L, 16L, 8L))
  expect_false(anyNA(table$value))
  losses <- trace$loss[1:3]
  expect_equal(result$loss[1], (4 * losses[1] + 4 * losses[2] + 2 * losses[3]) / 10)
})

test_that("one mini-batch is one full-batch step on its samples", {
  f <- fixture("minibatch")
  result <- nn_train(f$layers, f$X, f$y, f$lr, 1, trace = TRUE, batch_size = 4)
  expect_identical(result$trace$samples[1, ], 1:4)
  alone <- nn_train(f$layers, f$X[1:4, ], f$y[1:4, , drop = FALSE], f$lr, 1, trace = TRUE)
  for (l in seq_along(f$layers)) {
    for (quantity in names(alone$trace$layers[[l]])) {
      expect_identical(result$trace$layers[[l]][[quantity]][1, , ],
                       alone$trace$layers[[l]][[quantity]][1, , ], label = quantity)
    }
  }
})

test_that("a batch as large as the data is full batch", {
  f <- nn_article()
  full <- nn_train(f$layers, f$X, f$y, f$lr, 20)
  for (batch_size in c(3, 50)) {
    expect_identical(nn_train(f$layers, f$X, f$y, f$lr, 20, batch_size = batch_size)$loss,
                     full$loss)
  }
})

test_that("stochastic gradient descent takes one sample at a time", {
  f <- fixture("sgd")
  trace <- nn_train_fixture(f, trace = TRUE)$trace
  expect_identical(dim(trace$samples), c(f$epochs * 10L, 1L))
  expect_identical(dim(trace$layers[[1]]$delta)[2:3], c(1L, 4L))
  row <- trace$samples[1, 1]
  first <- nn_train(f$layers, f$X[row, , drop = FALSE], f$y[row, , drop = FALSE], f$lr, 1)
  expect_identical(trace$layers[[1]]$weights[1, , ], first$layers[[1]]$weights)
})

test_that("batch settings are checked, as in Python", {
  f <- nn_article()
  train <- function(...) nn_train(f$layers, f$X, f$y, f$lr, 3, ...)
  expect_field(train(batch_size = 0), "batch_size", "must be a whole number, 1 or more; got 0.0")
  expect_field(train(batch_size = 2.5), "batch_size",
               "must be a whole number, 1 or more; got 2.5")
  expect_field(train(shuffle = 1), "shuffle", "must be true or false; got 1.0")
  expect_field(train(shuffle = TRUE), "seed", "must be given to shuffle")
  expect_field(train(seed = -3), "seed", "must be a whole number, from 1 to 2147483646; got -3.0")
})

test_that("a network without bias never gets one", {
  f <- fixture("article_no_bias")
  result <- nn_train_fixture(f, trace = TRUE)
  expect_null(result$layers[[1]]$bias)
  expect_null(result$layers[[2]]$bias)
  expect_false(any(vapply(result$trace$layers, function(q) "bias" %in% names(q), TRUE)))
  expect_false("bias" %in% nn_trace_table(result$trace)$quantity)
  expect_true(all(diff(result$loss) < 0))
})

test_that("the expected values of every fixture that has them", {
  checked <- 0
  for (path in nn_fixture_paths) {
    f <- nn_load_fixture(path)
    if (is.null(f$expected)) next
    half_squared_error <- (f$y - nn_predict(f$layers, f$X))^2 / 2
    difference <- abs(half_squared_error - f$expected$untrained_half_squared_error)
    expect_true(all(difference <= 0.5 * 10^-f$expected$decimals), label = basename(path))
    checked <- checked + 1
  }
  expect_gte(checked, 1)
})

test_that("nn_predict_class", {
  f <- fixture("three_outputs")
  trained <- nn_train_fixture(f)$layers
  expect_identical(nn_predict_class(trained, f$X), rep(1:3, each = 3))
  one <- list(list(weights = matrix(1), bias = NULL, activation = "linear"))
  expect_identical(nn_predict_class(one, matrix(c(0.49, 0.5, 2))), c(0L, 1L, 1L))
  tied <- list(list(weights = matrix(c(1, 1, 0), 1), bias = NULL, activation = "linear"))
  expect_identical(nn_predict_class(tied, matrix(2)), 1L)
})

test_that("every fixture learns", {
  for (path in nn_fixture_paths) {
    f <- nn_load_fixture(path)
    result <- nn_train_fixture(f)
    expect_lt(result$loss[f$epochs], result$loss[1])
    if (f$name == "saturated") { # its units saturate: it learns only its output's bias
      for (l in seq_along(f$layers)) {
        expect_lt(max(abs(result$layers[[l]]$weights - f$layers[[l]]$weights)), 3e-4)
      }
      expect_lt(max(abs(nn_predict(result$layers, f$X) - 0.5)), 1e-7)
    } else if (!(f$name %in% c("article_no_bias", "linear_output"))) {
      expected <- if (ncol(f$y) > 1) max.col(f$y) else as.integer(f$y[, 1])
      expect_gte(mean(nn_predict_class(result$layers, f$X) == expected), 0.97, label = f$name)
    }
  }
})
