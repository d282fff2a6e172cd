# The R implementation on its own: the steps, the result, bad arguments.

# One epoch of the article's network, one number at a time with plain loops.
first_epoch_by_hand <- function(fixture) {
  X <- fixture$X
  y <- fixture$y
  W1 <- fixture$layers[[1]]$weights
  b1 <- fixture$layers[[1]]$bias
  W2 <- fixture$layers[[2]]$weights
  b2 <- fixture$layers[[2]]$bias
  lr <- fixture$lr
  n <- nrow(X)
  m <- ncol(X)
  h <- length(b1)
  s <- function(z) 1 / (1 + exp(-z))
  Z1 <- A1 <- S1 <- H <- D1 <- matrix(0, n, h)
  Z2 <- A2 <- E <- S2 <- D2 <- matrix(0, n, 1)
  for (i in 1:n) {
    for (j in 1:h) {
      total <- 0
      for (k in 1:m) total <- total + X[i, k] * W1[k, j]
      Z1[i, j] <- total + b1[j]
      A1[i, j] <- s(Z1[i, j])
      S1[i, j] <- A1[i, j] * (1 - A1[i, j])
    }
    total <- 0
    for (j in 1:h) total <- total + A1[i, j] * W2[j, 1]
    Z2[i, 1] <- total + b2[1]
    A2[i, 1] <- s(Z2[i, 1])
    E[i, 1] <- y[i, 1] - A2[i, 1]
    S2[i, 1] <- A2[i, 1] * (1 - A2[i, 1])
    D2[i, 1] <- E[i, 1] * S2[i, 1]
    for (j in 1:h) {
      H[i, j] <- D2[i, 1] * W2[j, 1]
      D1[i, j] <- H[i, j] * S1[i, j]
    }
  }
  w1_new <- W1
  for (k in 1:m) for (j in 1:h) w1_new[k, j] <- W1[k, j] + lr * sum(X[, k] * D1[, j])
  w2_new <- W2
  for (j in 1:h) w2_new[j, 1] <- W2[j, 1] + lr * sum(A1[, j] * D2[, 1])
  list(
    layer_input = list(Z1, Z2), activation = list(A1, A2), error = list(NULL, E),
    slope = list(S1, S2), delta = list(D1, D2), error_at_layer = list(H, NULL),
    weights = list(w1_new, w2_new),
    bias = list(b1 + lr * c(sum(D1[, 1]), sum(D1[, 2]), sum(D1[, 3])), b2 + lr * sum(D2)),
    loss = sum(E^2) / n / 2
  )
}

test_that("the first epoch of the article example matches a computation by hand", {
  fixture <- nn_article()
  result <- nn_train(fixture$layers, fixture$X, fixture$y, fixture$lr, 1, trace = TRUE)
  expected <- first_epoch_by_hand(fixture)
  expect_equal(result$loss, expected$loss, tolerance = 1e-14)
  for (quantity in setdiff(names(expected), "loss")) {
    for (l in 1:2) {
      if (is.null(expected[[quantity]][[l]])) next
      recorded <- result$trace$layers[[l]][[quantity]][1, , ]
      expect_equal(as.vector(recorded), as.vector(expected[[quantity]][[l]]),
                   tolerance = 1e-13, label = paste("layer", l, quantity))
    }
  }
})

test_that("zero epochs return the initial network and an empty trace", {
  fixture <- nn_article()
  result <- nn_train(fixture$layers, fixture$X, fixture$y, fixture$lr, 0, trace = TRUE)
  expect_identical(result$layers, fixture$layers)
  expect_length(result$loss, 0)
  expect_equal(nrow(nn_trace_table(result$trace)), 0)
})

test_that("the article example learns its targets, every epoch better", {
  fixture <- nn_article()
  result <- nn_train(fixture$layers, fixture$X, fixture$y, fixture$lr, fixture$epochs)
  output <- nn_predict(result$layers, fixture$X)
  expect_true(all(abs(output - fixture$y) < 0.05))
  expect_true(all(diff(result$loss) < 0))
})

test_that("a trace has the shapes of the network and agrees with the result", {
  fixture <- nn_load_fixture("two_hidden")
  epochs <- 4
  result <- nn_train(fixture$layers, fixture$X, fixture$y, fixture$lr, epochs, trace = TRUE)
  trace <- result$trace
  expect_identical(trace$loss, result$loss)
  units <- c(3, 2, 1)
  for (l in 1:3) {
    expected <- c("layer_input", "activation", "slope", "delta", "weights", "bias",
                  if (l == 3) "error" else "error_at_layer")
    expect_setequal(names(trace$layers[[l]]), expected)
    n_inputs <- nrow(fixture$layers[[l]]$weights)
    expect_equal(dim(trace$layers[[l]]$weights), c(epochs, n_inputs, units[l]))
    expect_equal(dim(trace$layers[[l]]$bias), c(epochs, 1, units[l]))
    expect_equal(dim(trace$layers[[l]]$delta), c(epochs, nrow(fixture$X), units[l]))
    expect_identical(matrix(trace$layers[[l]]$weights[epochs, , ], ncol = units[l]),
                     result$layers[[l]]$weights)
    expect_identical(trace$layers[[l]]$bias[epochs, 1, ], result$layers[[l]]$bias)
    expect_true(all(is.finite(unlist(trace$layers[[l]]))))
  }
  expect_identical(matrix(trace$layers[[3]]$activation[1, , ], ncol = 1),
                   nn_predict(fixture$layers, fixture$X))
})

test_that("bad arguments are refused naming the field, as in Python", {
  fixture <- nn_article()
  train <- function(...) {
    arguments <- list(layers = fixture$layers, X = fixture$X, y = fixture$y, lr = 0.1, epochs = 3)
    changes <- list(...)
    arguments[names(changes)] <- changes
    do.call(nn_train, arguments)
  }
  expect_field <- function(expr, field, problem) {
    error <- tryCatch(expr, nnscratch_input_error = function(e) e)
    expect_s3_class(error, "nnscratch_input_error")
    expect_identical(error$field, field)
    expect_identical(error$problem, problem)
    expect_identical(conditionMessage(error), paste0(field, ": ", problem))
  }
  expect_field(train(y = as.vector(fixture$y)), "y", "must be a matrix of numbers")
  expect_field(train(X = fixture$X[, 1:3]), "X",
               "has 3 columns, but layers[1].weights has 4 rows (one per feature); they must match")
  expect_field(train(y = fixture$y[1:2, , drop = FALSE]), "y",
               "has 2 rows, but X has 3 (one per sample); they must match")
  expect_field(train(lr = 0), "lr", "must be a finite number above 0; got 0.0")
  expect_field(train(lr = NaN), "lr", "must be a finite number above 0; got NaN")
  expect_field(train(epochs = 2.5), "epochs", "must be a whole number, 0 or more; got 2.5")
  expect_field(train(epochs = TRUE), "epochs", "must be a whole number, 0 or more; got a boolean")
  expect_field(train(layers = list()), "layers", "must hold at least one layer")
  expect_field(train(layers = fixture$layers[2]), "X",
               "has 4 columns, but layers[1].weights has 3 rows (one per feature); they must match")
  softmax_layers <- fixture$layers
  softmax_layers[[1]]$activation <- "softmax"
  expect_field(train(layers = softmax_layers), "layers[1].activation",
               "unknown activation 'softmax'; known: sigmoid, tanh, relu, linear")
})

test_that("the sigmoid saturates to 0 and 1 without warnings", {
  expect_silent(value <- nn_sigmoid(c(-800, 800)))
  expect_identical(value, c(0, 1))
})

test_that("the update is gradient descent on the summed squared error", {
  # W_new = W - lr * dL/dW with L = sum((y - output)^2) / 2, by central differences.
  fixture <- nn_article()
  trained <- nn_train(fixture$layers, fixture$X, fixture$y, fixture$lr, 1)$layers
  summed_squared_error <- function(layers) {
    sum((fixture$y - nn_predict(layers, fixture$X))^2) / 2
  }
  h <- 1e-6
  for (l in seq_along(fixture$layers)) {
    for (name in c("weights", "bias")) {
      values <- fixture$layers[[l]][[name]]
      for (i in seq_along(values)) {
        shifted <- vapply(c(h, -h), function(step) {
          layers <- fixture$layers
          layers[[l]][[name]][i] <- layers[[l]][[name]][i] + step
          summed_squared_error(layers)
        }, 1)
        gradient <- (shifted[1] - shifted[2]) / (2 * h)
        moved <- trained[[l]][[name]][i] - values[i]
        expect_equal(moved, -fixture$lr * gradient, tolerance = 1e-6)
      }
    }
  }
})

test_that("a run continues from its layers, state and epoch as one call, as in Python", {
  f <- nn_load_fixture(file.path(nn_root, "fixtures", "minibatch.json"))
  f$epochs <- 30
  whole <- nn_train_fixture(f, trace = TRUE)
  every <- nn_train_fixture(f, trace = TRUE, trace_every = 4)
  first <- nn_train(f$layers, f$X, f$y, f$lr, 12, batch_size = 4, shuffle = TRUE, seed = f$seed)
  seen <- integer()
  second <- nn_train(first$layers, f$X, f$y, f$lr, 18, trace = TRUE, batch_size = 4,
                     shuffle = TRUE, seed = first$state, first_epoch = 13,
                     progress = function(epoch, loss) seen <<- c(seen, epoch))
  expect_identical(second$loss, whole$loss[13:30])
  expect_identical(second$layers, whole$layers)
  expect_identical(second$state, whole$state)
  later <- whole$trace$epoch > 12
  expect_identical(second$trace$epoch, whole$trace$epoch[later])
  expect_identical(second$trace$samples, whole$trace$samples[later, , drop = FALSE])
  expect_identical(second$trace$layers[[1]]$delta,
                   whole$trace$layers[[1]]$delta[later, , , drop = FALSE])
  expect_equal(seen, 13:30)
  sparse <- nn_train(first$layers, f$X, f$y, f$lr, 18, trace = TRUE, trace_every = 4,
                     batch_size = 4, shuffle = TRUE, seed = first$state, first_epoch = 13)
  expect_equal(unique(sparse$trace$epoch), c(16, 20, 24, 28))
  expect_equal(unique(sparse$trace$epoch), setdiff(unique(every$trace$epoch), c(4, 8, 12)))
  # linear_output at lr 5 diverges in its 65th epoch (test-proof.R): the 165th, from 101.
  g <- nn_load_fixture(file.path(nn_root, "fixtures", "linear_output.json"))
  expect_error(nn_train(g$layers, g$X, g$y, 5, 100, first_epoch = 101),
               "in epoch 165, iteration 1, the loss", fixed = TRUE)
  expect_error(nn_train(first$layers, f$X, f$y, f$lr, 2, first_epoch = 0),
               "first_epoch: must be a whole number, 1 or more; got 0.0", fixed = TRUE)
})
