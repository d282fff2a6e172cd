# nnscratch: the article's multi-layer perceptron, written to be read.
#
# source("r/nnscratch.R") only defines nn_* functions and tables. The same calls
# exist in Python (import nnscratch) without the nn_ prefix. The sections below
# follow one order, the same as Python's modules: activations; the network
# (initialisation, forward, backward, step, train, predict); the trace; checks; the
# generator; files; plots; explain.

# ---- Activations ---------------------------------------------------------------
# Each slope is written from the activation's *output* a = f(z), as the article
# does (sigmoid: a * (1 - a)), so step 6 needs only the activations of the forward
# pass. Adding an activation is one entry in nn_activations: the function, its
# slope, and how nn_explain writes the slope.

#' Logistic function 1 / (1 + exp(-z)), elementwise.
#'
#' For z below about -709, exp(-z) is Inf and the result is exactly 0, the limit.
#' @param z numeric matrix.
#' @return numeric matrix of the same shape.
nn_sigmoid <- function(z) {
  1 / (1 + exp(-z))
}

#' Derivative of the sigmoid at z, written from its output a = nn_sigmoid(z).
#' @param a numeric matrix.
#' @return numeric matrix of the same shape.
nn_sigmoid_slope <- function(a) {
  a * (1 - a)
}

#' Hyperbolic tangent, elementwise.
#' @param z numeric matrix.
nn_tanh <- function(z) {
  tanh(z)
}

#' Derivative of tanh at z, written from its output a = tanh(z).
#' @param a numeric matrix.
nn_tanh_slope <- function(a) {
  1 - a * a
}

#' Rectified linear unit max(z, 0), elementwise.
#' @param z numeric matrix.
nn_relu <- function(z) {
  pmax(z, 0)
}

#' Derivative of relu, from its output: 1 where a > 0, else 0 (so 0 at exactly 0).
#' @param a numeric matrix.
nn_relu_slope <- function(a) {
  (a > 0) * 1
}

#' The identity, for regression outputs.
#' @param z numeric matrix.
nn_linear <- function(z) {
  z
}

#' Derivative of the identity: 1 everywhere.
#' @param a numeric matrix.
nn_linear_slope <- function(a) {
  array(1, dim(a))
}

# One entry per activation, as Python's ACTIVATIONS: `f`, A = f(Z) (steps 3 and 4);
# `slope`, S = slope(A), the derivative at Z from the output A (step 6);
# `slope_formula`, the slope as nn_explain writes it, in terms of A.
nn_activations <- list(
  sigmoid = list(f = nn_sigmoid, slope = nn_sigmoid_slope, slope_formula = "A (1 - A)"),
  tanh = list(f = nn_tanh, slope = nn_tanh_slope, slope_formula = "1 - A^2"),
  relu = list(f = nn_relu, slope = nn_relu_slope, slope_formula = "1 where A > 0, else 0"),
  linear = list(f = nn_linear, slope = nn_linear_slope, slope_formula = "1")
)

# ---- Network ---------------------------------------------------------------------
# A layer is list(weights = <matrix n_inputs x n_units>, bias = <numeric n_units, or
# NULL for a layer without bias>, activation = "sigmoid"), as nn_layer makes it; a
# network is a list of layers; samples are rows.

#' One layer of weights, as Python's Layer.
#'
#' @param weights numeric matrix, n_inputs x n_units.
#' @param bias numeric vector of n_units, or NULL for a layer without bias.
#' @param activation a name of nn_activations.
#' @return list(weights, bias, activation), the numbers stored as doubles. Nothing in
#'   nnscratch changes a layer in place: training makes new layers.
nn_layer <- function(weights, bias, activation = "sigmoid") {
  if (is.numeric(weights)) {
    storage.mode(weights) <- "double"
  }
  if (is.numeric(bias)) {
    storage.mode(bias) <- "double"
  }
  list(weights = weights, bias = bias, activation = activation)
}

#' The article's initialisation: every weight and bias uniform on [0, 1).
#' @param state the Lehmer generator's state.
#' @param n_inputs,n_units the layer's shape.
#' @param bias give the layer a bias.
#' @return list(weights, bias, state).
nn_uniform_init <- function(state, n_inputs, n_units, bias) {
  weights <- nn_lehmer_uniform(state, n_inputs * n_units)
  state <- weights$state
  biases <- NULL
  if (bias) {
    biases <- nn_lehmer_uniform(state, n_units)
    state <- biases$state
  }
  list(
    weights = matrix(weights$draws, n_inputs, n_units, byrow = TRUE), bias = biases$draws,
    state = state
  )
}

#' Glorot (Xavier) uniform: weights uniform on [-limit, limit], biases 0.
#'
#' limit = sqrt(6 / (n_inputs + n_units)) keeps the variance of the signal about
#' the same from layer to layer.
#' @inheritParams nn_uniform_init
nn_glorot_init <- function(state, n_inputs, n_units, bias) {
  draws <- nn_lehmer_uniform(state, n_inputs * n_units)
  limit <- sqrt(6 / (n_inputs + n_units))
  weights <- limit * (2 * draws$draws - 1)
  list(
    weights = matrix(weights, n_inputs, n_units, byrow = TRUE),
    bias = if (bias) numeric(n_units) else NULL, state = draws$state
  )
}

nn_initialisers <- list(uniform = nn_uniform_init, glorot = nn_glorot_init)

#' Layers with seeded random weights, the same to the bit as Python's init_layers.
#'
#' @param sizes units per layer, from the input features to the outputs:
#'   c(4, 3, 1) is 4 features, 3 hidden units, 1 output.
#' @param activations one name per layer of weights (length(sizes) - 1), or one for all.
#' @param seed from 1 to 2^31 - 2: the first state of the Lehmer generator.
#' @param method "uniform" or "glorot", a name of nn_initialisers. Layer by layer,
#'   the weights are drawn row by row, then the bias.
#' @param bias give each layer a bias, or none.
#' @return list of layers.
nn_init_layers <- function(sizes, activations, seed, method = "uniform", bias = TRUE) {
  if (length(activations) == 1) {
    activations <- rep(activations, length(sizes) - 1) # one name for all
  }
  if (length(sizes) < 2) {
    nn_input_error("sizes", "must give at least two sizes (inputs and outputs)")
  }
  for (number in seq_along(sizes)) {
    nn_check_whole(sizes[[number]], sprintf("sizes[%d]", number), 1)
  }
  if (length(activations) != length(sizes) - 1) {
    nn_input_error("activations", sprintf(
      "has %d names, but there are %d layers; give one per layer, or one for all",
      length(activations), length(sizes) - 1
    ), category = "shape")
  }
  nn_check_seed(seed)
  if (!(method %in% names(nn_initialisers))) {
    nn_input_error("method", sprintf(
      "unknown method '%s'; known: %s", method, paste(names(nn_initialisers), collapse = ", ")
    ))
  }
  state <- seed
  layers <- vector("list", length(sizes) - 1)
  for (l in seq_along(layers)) {
    drawn <- nn_initialisers[[method]](state, sizes[[l]], sizes[[l + 1]], bias)
    state <- drawn$state
    layers[[l]] <- nn_layer(drawn$weights, drawn$bias, activations[[l]])
  }
  nn_check_network(layers, matrix(0, 1, sizes[[1]]))
  layers
}

#' Steps 2 to 4: the forward pass.
#'
#' @param layers list of layers.
#' @param X numeric matrix, n_samples x n_features.
#' @return list(layer_input, activation): per layer, the n_samples x n_units
#'   matrices Z_l = A_{l-1} W_l + b_l and A_l = f(Z_l), with A_0 = X.
nn_forward <- function(layers, X) {
  layer_input <- activation <- vector("list", length(layers))
  for (l in seq_along(layers)) {
    layer <- layers[[l]]
    previous <- if (l == 1) X else activation[[l - 1]]
    z <- previous %*% layer$weights
    # Step 2 (step 4 for the output layer): the layer's input.
    layer_input[[l]] <- if (is.null(layer$bias)) z else z + rep(layer$bias, each = nrow(X))
    # Step 3 (step 4 for the output layer): its activation.
    activation[[l]] <- nn_activations[[layer$activation]]$f(layer_input[[l]])
  }
  list(layer_input = layer_input, activation = activation)
}

#' Steps 6 to 9: the backward pass, with the weights from before the update.
#'
#' @param layers list of layers.
#' @param activation the forward pass's A_l, from nn_forward.
#' @param error step 5: E = y - output.
#' @return list(slope, delta, error_at_layer): per layer, n_samples x n_units
#'   matrices; error_at_layer is NULL for the output layer.
nn_backward <- function(layers, activation, error) {
  n_layers <- length(layers)
  slope <- delta <- error_at_layer <- vector("list", n_layers)
  # Step 6: the slope of every layer's activation, from its output.
  for (l in seq_len(n_layers)) {
    slope[[l]] <- nn_activations[[layers[[l]]$activation]]$slope(activation[[l]])
  }
  # Step 7: the output layer's delta.
  delta[[n_layers]] <- error * slope[[n_layers]]
  for (l in n_layers - seq_len(n_layers - 1)) { # from the last hidden layer back to the first
    # Step 8: the error sent back to hidden layer l through the weights above it.
    # tcrossprod(D, W) is D %*% t(W), without making t(W).
    error_at_layer[[l]] <- tcrossprod(delta[[l + 1]], layers[[l + 1]]$weights)
    # Step 9: hidden layer l's delta.
    delta[[l]] <- error_at_layer[[l]] * slope[[l]]
  }
  list(slope = slope, delta = delta, error_at_layer = error_at_layer)
}

#' One iteration of gradient descent: the article's steps 2 to 11, on one batch.
#'
#' @param layers the network before the update (R copies it: the caller's stays as
#'   it was).
#' @param X numeric matrix, n_samples x n_features: the batch's samples (all of the
#'   data in full-batch training).
#' @param y numeric matrix, n_samples x n_outputs.
#' @param lr the learning rate.
#' @return list(layers, layer_input, activation, error, loss, slope, delta,
#'   error_at_layer), as Python's Step: the layers after the update (steps 10 and 11)
#'   and every quantity the iteration computed; the per-layer quantities are lists of
#'   n_samples x n_units matrices, error_at_layer NULL for the output layer; error is
#'   n_samples x n_outputs; loss is mean(error^2) / 2.
nn_step <- function(layers, X, y, lr) {
  # Steps 2 to 4: the forward pass.
  forward <- nn_forward(layers, X)
  activation <- forward$activation
  # Step 5: the error at the output, and the loss: the mean of its squares, halved.
  error <- y - activation[[length(layers)]]
  loss <- sum(error^2) / length(error) / 2
  # Steps 6 to 9: the backward pass.
  backward <- nn_backward(layers, activation, error)
  delta <- backward$delta
  for (l in seq_along(layers)) {
    previous <- if (l == 1) X else activation[[l - 1]]
    # Step 10: the weights move by lr times the gradient summed over the batch.
    # crossprod(A, D) is t(A) %*% D, without making t(A).
    layers[[l]]$weights <- layers[[l]]$weights + lr * crossprod(previous, delta[[l]])
    # Step 11: the bias moves by lr times the delta summed over the batch.
    # .colSums is colSums without its checks on what it is given.
    if (!is.null(layers[[l]]$bias)) {
      layers[[l]]$bias <- layers[[l]]$bias + lr * .colSums(delta[[l]], nrow(X), ncol(delta[[l]]))
    }
  }
  list(layers = layers, layer_input = forward$layer_input, activation = activation,
       error = error, loss = loss, slope = backward$slope, delta = delta,
       error_at_layer = backward$error_at_layer)
}

#' Train by gradient descent: nn_step on every batch of every epoch.
#'
#' @param layers the initial network (a list of layers, as nn_layer makes them); R
#'   copies it, so the caller's stays as it was.
#' @param X numeric matrix, n_samples x n_features.
#' @param y numeric matrix, n_samples x n_outputs.
#' @param lr learning rate, above 0.
#' @param epochs number of passes over the data, 0 or more.
#' @param trace record every quantity of every step of every iteration.
#' @param batch_size samples per update: NULL (or n_samples or more) is full-batch
#'   gradient descent, 1 is stochastic gradient descent, anything between
#'   mini-batches. The last batch of an epoch holds what is left.
#' @param shuffle shuffle the samples before each epoch (with the Lehmer generator,
#'   as Python does); otherwise batches follow the order of the data.
#' @param seed the generator's first state; needed to shuffle. A run's state given as
#'   seed continues its shuffles where it stopped.
#' @param first_epoch the number of this call's first epoch, from 1. A run that
#'   stopped after epoch k continues with its layers, its state as seed and
#'   first_epoch = k + 1: then traces, progress, trace_every and errors count epochs
#'   from the run's start, and the epochs it trains are exactly those of one call
#'   that trains them all.
#' @param progress NULL, or a function called after every epoch as
#'   progress(epoch, loss), the epoch counted as first_epoch counts it.
#' @param trace_every with trace, record the epochs whose number is a multiple of this.
#' @param trace_quantities with trace, record only these of nn_layer_quantities (the
#'   samples and the loss always); NULL: all.
#' @param trace_limit bytes the trace may take; a run whose trace would take more is
#'   refused before it starts, with the estimate.
#' @return list(layers = <trained>, loss = <numeric, one per epoch, over all its
#'   batches, each before its update>, trace = <a trace, or NULL>, state = <the
#'   generator's state at the end>).
#' @section Errors: nnscratch_input_error for bad arguments, naming the argument;
#'   and for lr when training diverges: at the first update that gives a number
#'   that is not finite, naming its epoch and iteration.
nn_train <- function(layers, X, y, lr, epochs, trace = FALSE, batch_size = NULL,
                     shuffle = FALSE, seed = NULL, first_epoch = 1, progress = NULL,
                     trace_every = 1, trace_quantities = NULL, trace_limit = 1e9) {
  nn_check_training(layers, X, y, lr, epochs, batch_size, shuffle, seed, first_epoch)
  nn_check_recording(
    layers, X, batch_size, epochs, first_epoch, trace, progress, trace_every, trace_quantities,
    trace_limit
  )
  n_samples <- nrow(X)
  batch_size <- if (is.null(batch_size)) n_samples else min(batch_size, n_samples)
  loss <- numeric(epochs)
  recorder <- NULL
  if (trace) {
    recorder <- nn_new_recorder(layers, n_samples, batch_size, epochs, first_epoch, trace_every,
                                trace_quantities)
  }
  state <- seed
  for (epoch in as.integer(first_epoch) - 1L + seq_len(epochs)) {
    # Step 0: the batches of this epoch (the same every epoch, unless shuffled).
    if (shuffle || epoch == first_epoch) {
      epoch_batches <- nn_batches(X, y, batch_size, shuffle, state)
      state <- epoch_batches$state
    }
    epoch_loss <- 0
    for (iteration in seq_along(epoch_batches$batches)) {
      batch <- epoch_batches$batches[[iteration]]
      now <- nn_step(layers, batch$X, batch$y, lr)
      nn_check_finite(now, epoch, iteration)
      layers <- now$layers
      # The epoch's loss: the mean over its samples, each batch weighed by its size.
      epoch_loss <- epoch_loss + now$loss * (nrow(batch$X) / n_samples)
      if (!is.null(recorder)) {
        nn_record(recorder, epoch, iteration, batch$rows, now)
      }
    }
    loss[epoch - first_epoch + 1] <- epoch_loss
    if (!is.null(progress)) {
      progress(epoch, epoch_loss)
    }
  }
  list(layers = layers, loss = loss,
       trace = if (is.null(recorder)) NULL else nn_recorded_trace(recorder), state = state)
}

#' The network's output for X.
#'
#' @param layers list of layers.
#' @param X numeric matrix, n_samples x n_features.
#' @return numeric matrix, n_samples x n_outputs.
nn_predict <- function(layers, X) {
  nn_check_network(layers, X)
  nn_forward(layers, X)$activation[[length(layers)]]
}

#' The predicted class of each sample, coded as y codes it.
#'
#' One rule in both languages: a network with one output has two classes, 0 and 1,
#' as its y holds them: 1 where the output is 0.5 or more. A network with several
#' outputs (y one-hot) has one class per output: the position of the largest output
#' (the first of equal ones), counted as the language counts, from 1 here and from 0
#' in Python's predict_class.
#' @inheritParams nn_predict
#' @return integer vector, one per sample.
nn_predict_class <- function(layers, X) {
  output <- nn_predict(layers, X)
  if (ncol(output) == 1) {
    return(as.integer(output[, 1] >= 0.5))
  }
  max.col(output, ties.method = "first")
}

#' Compare backprop's update with central finite differences, for every weight and bias.
#'
#' The backprop side is one nn_step: it moves each weight and bias by lr times minus
#' the gradient of the summed squared error L = sum((y - output)^2) / 2. It is taken
#' with lr = 2^20, a power of two: dividing the move by lr is exact, and the rounding
#' of the addition becomes small beside the move. The numerical side moves each
#' weight and bias w by steps s of h and h / 2: D(s) = (L(w + s) - L(w - s)) / (2 s),
#' and numerical = (4 D(h / 2) - D(h)) / 3 (Richardson's extrapolation, which cancels
#' the error in s^2, so that s can stay large enough for the rounding of L, a sum
#' over every sample, not to matter).
#' @param layers list of layers.
#' @param X numeric matrix, n_samples x n_features.
#' @param y numeric matrix, n_samples x n_outputs.
#' @param h the step.
#' @return the largest relative error, |backprop - numerical| / max(|backprop|,
#'   |numerical|, 1e-8), over every weight and bias.
nn_gradient_check <- function(layers, X, y, h = 1e-3) {
  nn_check_training(layers, X, y, 1, 0)
  lr <- 2^20
  stepped <- nn_step(layers, X, y, lr)$layers
  slope_of_loss <- function(l, name, i, s) {
    moved <- layers
    moved[[l]][[name]][i] <- layers[[l]][[name]][i] + s
    above <- sum((y - nn_forward(moved, X)$activation[[length(layers)]])^2) / 2
    moved[[l]][[name]][i] <- layers[[l]][[name]][i] - s
    below <- sum((y - nn_forward(moved, X)$activation[[length(layers)]])^2) / 2
    (above - below) / (2 * s)
  }
  largest <- 0
  for (l in seq_along(layers)) {
    for (name in c("weights", "bias")) {
      values <- layers[[l]][[name]]
      if (is.null(values)) {
        next
      }
      gradient <- (values - stepped[[l]][[name]]) / lr
      for (i in seq_along(values)) {
        numerical <- (4 * slope_of_loss(l, name, i, h / 2) - slope_of_loss(l, name, i, h)) / 3
        error <- abs(gradient[i] - numerical)
        largest <- max(largest, error / max(abs(gradient[i]), abs(numerical), 1e-8))
      }
    }
  }
  largest
}

# ---- Trace -----------------------------------------------------------------------
# A trace records every quantity of every step of every iteration. An iteration is
# one update of the weights: one per epoch in full-batch gradient descent, one per
# batch with mini-batches. A trace is list(epoch, iteration, samples, loss, layers):
# - epoch, iteration: integer, one per iteration: its epoch, and its number within it;
# - samples: integer matrix [iteration, position], step 0: the rows of X the batch
#   holds, in order;
# - loss: numeric, one per iteration: the batch's loss, before its update;
# - layers[[l]][[quantity]]: an array [iteration, row, col], the value of that
#   quantity for layer l (nn_trace_steps() says which quantities a layer has; a layer
#   without bias has none).
# Quantities computed per sample have one row per position in the batch; when the
# last batch of an epoch is smaller, its missing rows stay NA (and its samples 0)
# and the long table leaves them out.

# The quantities a trace may keep for each layer; the samples and the loss it always keeps.
nn_layer_quantities <- c("layer_input", "activation", "error", "slope", "delta",
                         "error_at_layer", "weights", "bias")

# Quantities with one row per sample of the batch (the others: weights, bias, loss).
nn_per_sample <- c("samples", "layer_input", "activation", "error", "slope", "delta",
                   "error_at_layer")

#' The quantities one iteration computes, in the order the training loop computes them.
#'
#' @param n_layers number of layers of weights in the network.
#' @return data.frame with columns layer, quantity, step; layers count from 1; the
#'   batch's samples belong to layer 0, the input, at step 0. loss is listed with
#'   the output layer at step 5.
nn_trace_steps <- function(n_layers) {
  steps <- list(c(0, "samples", 0))
  for (layer in seq_len(n_layers)) {
    hidden <- layer < n_layers
    steps <- c(steps, list(c(layer, "layer_input", if (hidden) 2 else 4)))
    steps <- c(steps, list(c(layer, "activation", if (hidden) 3 else 4)))
  }
  steps <- c(steps, list(c(n_layers, "error", 5)), list(c(n_layers, "loss", 5)))
  for (layer in seq_len(n_layers)) steps <- c(steps, list(c(layer, "slope", 6)))
  steps <- c(steps, list(c(n_layers, "delta", 7)))
  for (layer in rev(seq_len(n_layers - 1))) {
    steps <- c(steps, list(c(layer, "error_at_layer", 8)), list(c(layer, "delta", 9)))
  }
  for (layer in seq_len(n_layers)) {
    steps <- c(steps, list(c(layer, "weights", 10)), list(c(layer, "bias", 11)))
  }
  steps <- do.call(rbind, steps)
  data.frame(
    layer = as.integer(steps[, 1]), quantity = steps[, 2], step = as.integer(steps[, 3])
  )
}

#' The rows and cols of one iteration's matrix of each (layer, quantity) a trace keeps.
#'
#' @param layers list of layers.
#' @param batch_size rows of the largest batch.
#' @param quantities the names of nn_layer_quantities to keep (NULL: all). The samples
#'   and the loss are always kept.
#' @return data.frame with columns layer, quantity, rows, cols.
nn_trace_shapes <- function(layers, batch_size, quantities = NULL) {
  steps <- nn_trace_steps(length(layers))
  kept <- steps$quantity %in% nn_layer_quantities &
    (is.null(quantities) | steps$quantity %in% quantities)
  steps <- steps[kept, ]
  with_bias <- !vapply(layers, function(layer) is.null(layer$bias), TRUE)
  steps <- steps[steps$quantity != "bias" | with_bias[pmax(steps$layer, 1)], ]
  n_inputs <- vapply(layers, function(layer) nrow(layer$weights), 1)[steps$layer]
  n_units <- vapply(layers, function(layer) ncol(layer$weights), 1)[steps$layer]
  rows <- ifelse(steps$quantity == "weights", n_inputs,
                 ifelse(steps$quantity == "bias", 1, batch_size))
  data.frame(layer = steps$layer, quantity = steps$quantity, rows = rows, cols = n_units)
}

#' How many bytes a trace of iterations updates takes: 8 per number.
#' @inheritParams nn_trace_shapes
#' @param iterations number of updates.
nn_trace_bytes <- function(layers, batch_size, iterations, quantities = NULL) {
  shapes <- nn_trace_shapes(layers, batch_size, quantities)
  8 * iterations * (batch_size + 1 + sum(shapes$rows * shapes$cols))
}

#' An unfilled trace (every value NA, every sample 0) for iterations updates.
#' @inheritParams nn_trace_bytes
nn_new_trace <- function(layers, batch_size, iterations, quantities = NULL) {
  recorded <- lapply(layers, function(layer) list())
  shapes <- nn_trace_shapes(layers, batch_size, quantities)
  for (i in seq_len(nrow(shapes))) {
    recorded[[shapes$layer[i]]][[shapes$quantity[i]]] <-
      array(NA_real_, c(iterations, shapes$rows[i], shapes$cols[i]))
  }
  list(
    epoch = integer(iterations), iteration = integer(iterations),
    samples = matrix(0L, iterations, batch_size), loss = rep(NA_real_, iterations),
    layers = recorded
  )
}

#' How many of the epochs first_epoch to first_epoch + epochs - 1 have a number that is
#' a multiple of every: the epochs a trace records.
#' @param first_epoch,epochs,every as nn_train takes them (every is trace_every).
nn_recorded_epochs <- function(first_epoch, epochs, every) {
  (first_epoch + epochs - 1) %/% every - (first_epoch - 1) %/% every
}

#' A recorder: a trace that nn_record fills, iteration by iteration, as training runs.
#'
#' An environment, so that nn_record can fill the trace's arrays in place. While it
#' records, the arrays of trace$layers are kept in one flat list, blocks, with the
#' layer and quantity of each: filling an array two lists deep costs R more than the
#' numbers themselves. nn_recorded_trace puts them back.
#' @inheritParams nn_trace_shapes
#' @param n_samples rows of X.
#' @param epochs,first_epoch epochs of the run, and the number of its first.
#' @param every record the epochs whose number is a multiple of this.
#' @return an environment holding trace (without its arrays), blocks, layer, quantity,
#'   per_sample (whether each block has a row per sample), every and filled (how many
#'   iterations are recorded).
nn_new_recorder <- function(layers, n_samples, batch_size, epochs, first_epoch = 1, every = 1,
                            quantities = NULL) {
  iterations <- nn_recorded_epochs(first_epoch, epochs, every) * ceiling(n_samples / batch_size)
  trace <- nn_new_trace(layers, batch_size, iterations, quantities)
  shapes <- nn_trace_shapes(layers, batch_size, quantities)
  blocks <- vector("list", nrow(shapes))
  for (i in seq_len(nrow(shapes))) {
    blocks[[i]] <- trace$layers[[shapes$layer[i]]][[shapes$quantity[i]]]
    trace$layers[[shapes$layer[i]]][[shapes$quantity[i]]] <- NULL
  }
  recorder <- new.env()
  recorder$trace <- trace
  recorder$blocks <- blocks
  recorder$layer <- shapes$layer
  recorder$quantity <- shapes$quantity
  recorder$per_sample <- shapes$quantity %in% nn_per_sample
  recorder$every <- every
  recorder$filled <- 0
  recorder
}

#' Record one iteration in the trace, when its epoch is one to record.
#'
#' @param recorder as nn_new_recorder makes it.
#' @param epoch,iteration from 1.
#' @param rows the rows of X the batch took, as nn_batches gives them.
#' @param now what nn_step returned; its weights and bias are those after the update.
nn_record <- function(recorder, epoch, iteration, rows, now) {
  if (epoch %% recorder$every != 0) {
    return(invisible(NULL))
  }
  # Take the trace and its arrays out of the recorder, so that R changes them in place
  # rather than copying them, and put them back at the end.
  trace <- recorder$trace
  blocks <- recorder$blocks
  recorder$trace <- recorder$blocks <- NULL
  k <- recorder$filled + 1
  recorder$filled <- k
  trace$epoch[k] <- epoch
  trace$iteration[k] <- iteration
  trace$loss[k] <- now$loss
  trace$samples[k, seq_along(rows)] <- rows
  values <- nn_step_values(now)
  layer <- recorder$layer
  quantity <- recorder$quantity
  # A smaller last batch fills the first rows of a per-sample quantity; anything else fills
  # its whole matrix.
  smaller <- recorder$per_sample & length(rows) < ncol(trace$samples)
  for (i in seq_along(blocks)) {
    value <- values[[quantity[i]]][[layer[i]]]
    if (smaller[i]) {
      blocks[[i]][k, seq_along(rows), ] <- value
    } else {
      blocks[[i]][k, , ] <- value
    }
  }
  recorder$trace <- trace
  recorder$blocks <- blocks
  invisible(NULL)
}

#' The trace a recorder holds, its arrays put back in trace$layers.
#' @param recorder as nn_new_recorder makes it and nn_record fills it.
#' @return a trace.
nn_recorded_trace <- function(recorder) {
  trace <- recorder$trace
  for (i in seq_along(recorder$blocks)) {
    trace$layers[[recorder$layer[i]]][[recorder$quantity[i]]] <- recorder$blocks[[i]]
  }
  trace
}

#' What one iteration computed, as the trace keeps it.
#'
#' The error belongs to the output layer; the weights and bias are those after the
#' update, the bias as one row.
#' @param now what nn_step returned.
#' @return per quantity of nn_layer_quantities, a list of one matrix per layer (NULL
#'   where a layer has none).
nn_step_values <- function(now) {
  n_layers <- length(now$layers)
  list(
    layer_input = now$layer_input, activation = now$activation,
    error = c(vector("list", n_layers - 1), list(now$error)), slope = now$slope,
    delta = now$delta, error_at_layer = now$error_at_layer,
    weights = lapply(now$layers, `[[`, "weights"),
    bias = lapply(now$layers, function(layer) {
      if (is.null(layer$bias)) NULL else matrix(layer$bias, nrow = 1)
    })
  )
}

#' The rows of nn_trace_steps() that trace holds.
#' @param trace a trace.
nn_trace_quantities <- function(trace) {
  steps <- nn_trace_steps(length(trace$layers))
  held <- mapply(function(layer, quantity) {
    layer == 0 || quantity == "loss" || quantity %in% names(trace$layers[[layer]])
  }, steps$layer, steps$quantity)
  steps[held, , drop = FALSE]
}

#' The array [iteration, row, col] of one quantity.
#'
#' samples has one column, loss one row and one column.
#' @param trace a trace.
#' @param layer layer number, from 1 (0 for samples).
#' @param quantity a quantity of nn_trace_steps().
nn_trace_block <- function(trace, layer, quantity) {
  if (quantity == "samples") {
    return(array(trace$samples, c(dim(trace$samples), 1)))
  }
  if (quantity == "loss") {
    return(array(trace$loss, c(length(trace$loss), 1, 1)))
  }
  trace$layers[[layer]][[quantity]]
}

#' Which rows of a quantity's array hold numbers: a logical matrix [iteration, row].
#'
#' All of them, except the rows past the end of a smaller last batch.
#' @param trace a trace.
#' @param quantity a quantity of nn_trace_steps().
#' @param n_rows rows of its array.
nn_trace_rows_used <- function(trace, quantity, n_rows) {
  if (quantity %in% nn_per_sample) {
    return(trace$samples > 0)
  }
  matrix(TRUE, length(trace$loss), n_rows)
}

#' The trace as one long table, one row per recorded number.
#'
#' @param trace a trace, as nn_train returns it.
#' @return data.frame with columns epoch, iteration, step, layer, quantity, row,
#'   col, value; every index starts at 1 (layer 0 is the input). Rows run
#'   iteration by iteration, in the order of nn_trace_steps() within an iteration,
#'   and row by row within a matrix. row is the position in the batch; the samples
#'   of step 0 say which row of X each position holds.
nn_trace_table <- function(trace) {
  iterations <- length(trace$loss)
  steps <- nn_trace_quantities(trace)
  blocks <- used <- index <- vector("list", nrow(steps))
  for (i in seq_len(nrow(steps))) {
    quantity <- steps$quantity[i]
    block <- nn_trace_block(trace, steps$layer[i], quantity)
    n_rows <- dim(block)[2]
    n_cols <- dim(block)[3]
    # [iteration, row, col] -> [iteration, col, row], so that a matrix reads row by row.
    blocks[[i]] <- matrix(aperm(block, c(1, 3, 2)), nrow = iterations)
    rows_used <- nn_trace_rows_used(trace, quantity, n_rows)
    used[[i]] <- rows_used[, rep(seq_len(n_rows), each = n_cols), drop = FALSE]
    index[[i]] <- data.frame(
      step = steps$step[i], layer = steps$layer[i], quantity = quantity,
      row = rep(seq_len(n_rows), each = n_cols), col = rep(seq_len(n_cols), times = n_rows)
    )
  }
  keep <- as.vector(t(do.call(cbind, used)))
  index <- do.call(rbind, index)
  per_iteration <- nrow(index)
  table <- data.frame(
    epoch = rep(trace$epoch, each = per_iteration),
    iteration = rep(trace$iteration, each = per_iteration),
    index[rep(seq_len(per_iteration), times = iterations), ],
    value = as.vector(t(do.call(cbind, blocks))),
    row.names = NULL
  )
  table <- table[keep, ]
  rownames(table) <- NULL
  table
}

# ---- Checks ----------------------------------------------------------------------
# Checks on a network and its data, with messages that name the field at fault.
# Python has the same checks in the same order with the same messages, so that a
# bad fixture is refused with the same words in both languages.

# What kind of thing is wrong; Python's CATEGORIES has the same names.
nn_categories <- c(
  file = "the file cannot be read, or is too large",
  json = "the text is not JSON",
  structure = "a field is missing, unknown, repeated, or of the wrong JSON type",
  shape = "an array is empty, ragged, or does not fit another",
  value = "a number or name is out of range: not finite, not whole, not known",
  training = "training diverged"
)

#' Signal bad input: an error of class nnscratch_input_error.
#'
#' @param field what is wrong ("X", "layers[2].bias"), or NULL.
#' @param problem what is wrong with it.
#' @param path the file it came from, or NULL; with a path the error is also of
#'   class nnscratch_fixture_error.
#' @param category a name of nn_categories, carried by the condition.
nn_input_error <- function(field, problem, path = NULL, category = "value") {
  message <- if (is.null(field)) problem else paste0(field, ": ", problem)
  class <- "nnscratch_input_error"
  if (!is.null(path)) {
    message <- paste0(path, ": ", message)
    class <- c("nnscratch_fixture_error", class)
  }
  stop(structure(
    class = c(class, "error", "condition"),
    list(message = message, call = NULL, field = field, problem = problem, path = path,
         category = category)
  ))
}

#' Each number as the shortest of %.15g, %.16g, %.17g that reads back exactly.
#'
#' Read back with jsonlite, the reader of fixtures. A result that would look like
#' an integer gets ".0" (1.0, -0.0), so that JSON readers keep it a double and keep
#' the sign of zero.
#' @param x numeric vector of finite numbers.
#' @return character vector.
nn_format_numbers <- function(x) {
  text <- sprintf("%.15g", x)
  for (digits in c(16, 17)) {
    parsed <- jsonlite::fromJSON(paste0("[", paste(text, collapse = ","), "]"))
    wrong <- parsed != x
    text[wrong] <- sprintf(paste0("%.", digits, "g"), x[wrong])
  }
  whole <- grepl("^-?[0-9]+$", text)
  text[whole] <- paste0(text[whole], ".0")
  text
}

#' A short description of a value for an error message: the number, or its JSON type.
#' @param value anything.
#' @return a string.
nn_describe <- function(value) {
  if (is.numeric(value) && length(value) == 1) {
    if (is.nan(value)) return("NaN")
    if (is.infinite(value)) return(if (value > 0) "Infinity" else "-Infinity")
    return(nn_format_numbers(value))
  }
  if (is.null(value)) return("null")
  if (is.logical(value) && length(value) == 1) return("a boolean")
  if (is.character(value) && length(value) == 1) return("a string")
  if (is.list(value) && !is.null(names(value))) return("an object")
  if (is.list(value) || length(value) != 1) return("an array")
  paste("a", class(value)[1])
}

#' Refuse anything but a non-empty, finite numeric array of ndim dimensions.
#' @param value the array.
#' @param field its name, for the message.
#' @param ndim 1 (a vector, no dim attribute) or 2 (a matrix).
nn_check_array <- function(value, field, ndim) {
  shaped <- if (ndim == 1) is.null(dim(value)) else is.matrix(value)
  if (!is.numeric(value) || !shaped) {
    nn_input_error(
      field, paste("must be a", if (ndim == 1) "vector" else "matrix", "of numbers"),
      category = "structure"
    )
  }
  if (length(value) == 0) {
    nn_input_error(field, "must not be empty", category = "shape")
  }
  if (!all(is.finite(value))) {
    nn_input_error(field, "holds NaN or an infinite value; every number must be finite")
  }
}

#' Check that layers form a network and that X fits its first layer.
#' @param layers list of layers.
#' @param X numeric matrix, n_samples x n_features.
nn_check_network <- function(layers, X) {
  if (length(layers) == 0) {
    nn_input_error("layers", "must hold at least one layer", category = "shape")
  }
  for (number in seq_along(layers)) {
    layer <- layers[[number]]
    field <- sprintf("layers[%d]", number)
    if (!(is.character(layer$activation) && length(layer$activation) == 1)) {
      nn_input_error(paste0(field, ".activation"),
                     paste("must be a string; got", nn_describe(layer$activation)),
                     category = "structure")
    }
    if (!(layer$activation %in% names(nn_activations))) {
      nn_input_error(paste0(field, ".activation"), sprintf(
        "unknown activation '%s'; known: %s",
        layer$activation, paste(names(nn_activations), collapse = ", ")
      ))
    }
    nn_check_array(layer$weights, paste0(field, ".weights"), 2)
    n_inputs <- nrow(layer$weights)
    n_units <- ncol(layer$weights)
    n_previous <- if (number > 1) ncol(layers[[number - 1]]$weights) else n_inputs
    if (n_inputs != n_previous) {
      nn_input_error(paste0(field, ".weights"), sprintf(
        "has %d rows, but layer %d has %d units; they must match",
        n_inputs, number - 1, n_previous
      ), category = "shape")
    }
    if (is.null(layer$bias)) {
      next # a layer without bias
    }
    nn_check_array(layer$bias, paste0(field, ".bias"), 1)
    if (length(layer$bias) != n_units) {
      nn_input_error(paste0(field, ".bias"), sprintf(
        "has %d numbers, but the layer has %d units (columns of weights); they must match",
        length(layer$bias), n_units
      ), category = "shape")
    }
  }
  nn_check_array(X, "X", 2)
  if (ncol(X) != nrow(layers[[1]]$weights)) {
    nn_input_error("X", sprintf(
      "has %d columns, but layers[1].weights has %d rows (one per feature); they must match",
      ncol(X), nrow(layers[[1]]$weights)
    ), category = "shape")
  }
}

#' Check everything nn_train is given, in the order Python checks it too.
#' @inheritParams nn_train
nn_check_training <- function(layers, X, y, lr, epochs, batch_size = NULL, shuffle = FALSE,
                              seed = NULL, first_epoch = 1) {
  nn_check_network(layers, X)
  nn_check_array(y, "y", 2)
  if (nrow(y) != nrow(X)) {
    nn_input_error("y", sprintf(
      "has %d rows, but X has %d (one per sample); they must match", nrow(y), nrow(X)
    ), category = "shape")
  }
  n_outputs <- ncol(layers[[length(layers)]]$weights)
  if (ncol(y) != n_outputs) {
    nn_input_error("y", sprintf(
      "has %d columns, but the last layer has %d units (one per output); they must match",
      ncol(y), n_outputs
    ), category = "shape")
  }
  if (!(nn_is_number(lr) && is.finite(lr) && lr > 0)) {
    nn_input_error("lr", paste("must be a finite number above 0; got", nn_describe(lr)))
  }
  nn_check_whole(epochs, "epochs", 0)
  if (!is.null(batch_size)) {
    nn_check_whole(batch_size, "batch_size", 1)
  }
  if (!(isTRUE(shuffle) || isFALSE(shuffle))) {
    nn_input_error("shuffle", paste("must be true or false; got", nn_describe(shuffle)))
  }
  if (!is.null(seed)) {
    nn_check_seed(seed)
  } else if (shuffle) {
    nn_input_error("seed", "must be given to shuffle", category = "structure")
  }
  nn_check_whole(first_epoch, "first_epoch", 1)
}

#' A seed of the Lehmer generator: a whole number from 1 to 2^31 - 2.
#' @param seed the seed.
nn_check_seed <- function(seed) {
  nn_check_whole(seed, "seed", 1, nn_lehmer_modulus - 1)
}

#' Refuse anything but a whole number from low (to high).
#' @param value the value.
#' @param field its name, for the message.
#' @param low,high the limits; high = NULL for none.
nn_check_whole <- function(value, field, low, high = NULL) {
  whole <- nn_is_number(value) && is.finite(value) && value == round(value)
  if (!(whole && value >= low && (is.null(high) || value <= high))) {
    limits <- if (is.null(high)) sprintf("%d or more", low) else sprintf("from %d to %d", low, high)
    nn_input_error(field, paste0("must be a whole number, ", limits, "; got ", nn_describe(value)))
  }
}

#' Check what nn_train is told to record and report.
#'
#' A trace that would take more than trace_limit bytes is refused here, before
#' training starts, with the estimate.
#' @inheritParams nn_train
nn_check_recording <- function(layers, X, batch_size, epochs, first_epoch, trace, progress,
                               trace_every, trace_quantities, trace_limit) {
  if (!(isTRUE(trace) || isFALSE(trace))) {
    nn_input_error("trace", paste("must be true or false; got", nn_describe(trace)))
  }
  if (!is.null(progress) && !is.function(progress)) {
    nn_input_error("progress", paste(
      "must be a function of (epoch, loss); got", nn_describe(progress)
    ), category = "structure")
  }
  nn_check_whole(trace_every, "trace_every", 1)
  if (!(is.null(trace_quantities) || is.character(trace_quantities))) {
    nn_input_error("trace_quantities", paste(
      "must be a name or a list of names; got", nn_describe(trace_quantities)
    ), category = "structure")
  }
  for (quantity in trace_quantities) {
    if (!(quantity %in% nn_layer_quantities)) {
      nn_input_error("trace_quantities", sprintf(
        "unknown quantity '%s'; known: %s", quantity, paste(nn_layer_quantities, collapse = ", ")
      ))
    }
  }
  if (!(nn_is_number(trace_limit) && trace_limit > 0)) {
    nn_input_error("trace_limit", paste("must be a number above 0; got", nn_describe(trace_limit)))
  }
  if (trace) {
    n_samples <- nrow(X)
    rows <- if (is.null(batch_size)) n_samples else min(batch_size, n_samples)
    iterations <- nn_recorded_epochs(first_epoch, epochs, trace_every) *
      ceiling(n_samples / rows)
    size <- nn_trace_bytes(layers, rows, iterations, trace_quantities)
    if (size > trace_limit) {
      nn_input_error("trace", sprintf(paste(
        "would take about %.0f MB, over the limit of %.0f MB (trace_limit): record every",
        "k-th epoch (trace_every), fewer quantities (trace_quantities), or raise trace_limit"
      ), size / 1e6, trace_limit / 1e6))
    }
  }
}

#' Stop training at the first iteration that gives a number that is not finite.
#'
#' now is what nn_step returned. Its loss plus the sum of the squares of the updated
#' weights and biases is finite unless one of those numbers is not (or the sum
#' overflows: then each number is looked at).
#' @param now what nn_step returned.
#' @param epoch,iteration where training is, from 1.
nn_check_finite <- function(now, epoch, iteration) {
  total <- now$loss
  for (layer in now$layers) {
    total <- total + sum(layer$weights^2) + sum(layer$bias^2)
  }
  if (is.finite(total)) {
    return(invisible(NULL))
  }
  where <- sprintf("training diverged: in epoch %d, iteration %d", epoch, iteration)
  if (!is.finite(now$loss)) {
    nn_input_error("lr", paste0(where, ", the loss is not finite; a smaller lr may help"),
                   category = "training")
  }
  for (number in seq_along(now$layers)) {
    for (name in c("weights", "bias")) {
      if (!all(is.finite(now$layers[[number]][[name]]))) {
        nn_input_error("lr", sprintf(
          "%s, the update made layers[%d].%s not finite; a smaller lr may help",
          where, number, name
        ), category = "training")
      }
    }
  }
}

nn_is_number <- function(value) {
  is.numeric(value) && length(value) == 1
}

# ---- Generator -----------------------------------------------------------------
# A Lehmer (Park-Miller) generator, the same in R and Python to the bit:
# state <- 16807 * state mod (2^31 - 1). Every product is below 2^46, so the
# arithmetic is exact in doubles and R computes exactly what Python does. It feeds
# the seeded initialisation and the shuffling of mini-batches. Functions take a
# state and return the new one with their draws; a seed is the first state.

nn_lehmer_modulus <- 2^31 - 1
nn_lehmer_multiplier <- 16807

#' The next state: a whole number from 1 to nn_lehmer_modulus - 1.
#' @param state the current state.
nn_lehmer_next <- function(state) {
  (nn_lehmer_multiplier * state) %% nn_lehmer_modulus
}

#' count draws uniform on [0, 1): (state - 1) / (modulus - 1) of the next states.
#' @param state the current state.
#' @param count how many draws.
#' @return list(draws = <numeric, count>, state = <the new state>).
nn_lehmer_uniform <- function(state, count) {
  draws <- numeric(count)
  for (i in seq_len(count)) {
    state <- nn_lehmer_next(state)
    draws[i] <- (state - 1) / (nn_lehmer_modulus - 1)
  }
  list(draws = draws, state = state)
}

#' A random order of 1..n (Fisher-Yates, from the last position down).
#'
#' Position i swaps with position (next state mod i) + 1.
#' @param n how many.
#' @param state the current state.
#' @return list(order = <integer, n>, state = <the new state>).
nn_lehmer_shuffle <- function(n, state) {
  order <- seq_len(n)
  for (i in rev(seq_len(n))[-n]) {
    state <- nn_lehmer_next(state)
    j <- state %% i + 1
    order[c(i, j)] <- order[c(j, i)]
  }
  list(order = order, state = state)
}

#' Step 0 of every iteration of one epoch: the batches, each with its rows of X.
#'
#' The samples in their order (or, with shuffle, in the order of nn_lehmer_shuffle),
#' cut into batches of batch_size; the last holds what is left.
#' @param X numeric matrix, n_samples x n_features.
#' @param y numeric matrix, n_samples x n_outputs.
#' @param batch_size samples per batch.
#' @param shuffle shuffle the samples first.
#' @param state the generator's state (NULL when not shuffling).
#' @return list(batches, state): per batch, list(rows = <the rows of X it takes>,
#'   X = <those rows of X>, y = <those rows of y>); the generator's state after the
#'   shuffle.
nn_batches <- function(X, y, batch_size, shuffle, state) {
  n_samples <- nrow(X)
  if (!shuffle && batch_size >= n_samples) { # the data as it is: taking its rows would copy it
    return(list(batches = list(list(rows = seq_len(n_samples), X = X, y = y)), state = state))
  }
  order <- seq_len(n_samples)
  if (shuffle) {
    shuffled <- nn_lehmer_shuffle(n_samples, state)
    order <- shuffled$order
    state <- shuffled$state
  }
  starts <- seq(1, n_samples, by = batch_size)
  batches <- lapply(starts, function(start) {
    rows <- order[start:min(start + batch_size - 1, n_samples)]
    list(rows = rows, X = X[rows, , drop = FALSE], y = y[rows, , drop = FALSE])
  })
  list(batches = batches, state = state)
}

# ---- Files -----------------------------------------------------------------------
# Fixtures, which hold a network, its data and how to train it; trace CSVs. The
# fixture format is nnscratch-fixture/1, described by fixtures/schema.json. Every
# double is written so that it reads back exactly, here and in Python, and every
# file is written under a temporary name and renamed into place.

nn_fixture_format <- "nnscratch-fixture/1"
nn_fixture_fields <- c("format", "name", "description", "X", "y", "layers", "lr", "epochs")
nn_fixture_optional_fields <- c("batch_size", "shuffle", "seed", "expected")
nn_layer_fields <- c("weights", "bias", "activation")
nn_expected_fields <- c("untrained_half_squared_error", "decimals")

#' Read and check a fixture.
#'
#' @param path the file.
#' @param max_bytes a larger file is refused before it is read.
#' @return list(name, description, X, y, layers, lr, epochs, batch_size, shuffle,
#'   seed, expected): batch_size and seed NULL when the file has none, shuffle
#'   FALSE; expected NULL, or list(untrained_half_squared_error = <matrix of y's
#'   shape>, decimals): the (y - output)^2 / 2 of the initial network, which the
#'   tests of both languages check to that many decimals.
#' @section Errors: an error of class nnscratch_fixture_error if the file cannot
#'   be read, is too large, is not UTF-8 JSON, or breaks the format; the message
#'   names the file and the field. Nothing is written.
nn_load_fixture <- function(path, max_bytes = 1e8) {
  size <- file.size(path)
  if (is.na(size) || dir.exists(path)) {
    nn_input_error(NULL, "cannot be read (no such file)", path, category = "file")
  }
  if (size > max_bytes) {
    nn_input_error(NULL, sprintf("is %.0f bytes, over the limit of %.0f (max_bytes)",
                                 size, max_bytes), path, category = "file")
  }
  bytes <- readBin(path, "raw", size)
  if (length(bytes) >= 3 && identical(bytes[1:3], as.raw(c(0xef, 0xbb, 0xbf)))) {
    nn_input_error(NULL, "starts with a byte-order mark; JSON is UTF-8 without one", path,
                   category = "json")
  }
  if (any(bytes == 0)) {
    nn_input_error(NULL, "is not valid JSON (a NUL byte)", path, category = "json")
  }
  text <- rawToChar(bytes)
  Encoding(text) <- "UTF-8"
  if (!validUTF8(text)) {
    nn_input_error(NULL, "is not UTF-8 text", path, category = "json")
  }
  # NaN and Infinity are not JSON, but Python writes them: read them as numbers
  # too large for a double, so that the check for finite numbers names their field.
  tokens <- gregexpr('"(?:[^"\\\\]|\\\\.)*"|-?Infinity|NaN', text, perl = TRUE)
  found <- regmatches(text, tokens)[[1]]
  regmatches(text, tokens) <- list(ifelse(
    startsWith(found, '"'), found, ifelse(startsWith(found, "-"), "-1e999", "1e999")
  ))
  content <- tryCatch(
    jsonlite::fromJSON(text, simplifyVector = FALSE),
    error = function(e) {
      detail <- gsub("\\s+", " ", trimws(conditionMessage(e)))
      nn_input_error(NULL, paste0("is not valid JSON (", detail, ")"), path, category = "json")
    }
  )
  tryCatch(
    nn_read_fixture(content),
    nnscratch_input_error = function(e) nn_input_error(e$field, e$problem, path, e$category)
  )
}

nn_read_fixture <- function(content) {
  nn_check_object(content, NULL, nn_fixture_fields, nn_fixture_optional_fields)
  if (!identical(content$format, nn_fixture_format)) {
    nn_input_error("format", sprintf("must be '%s'", nn_fixture_format), category = "structure")
  }
  for (field in c("name", "description")) {
    if (!(is.character(content[[field]]) && length(content[[field]]) == 1)) {
      nn_input_error(
        field, paste("must be a string; got", nn_describe(content[[field]])),
        category = "structure"
      )
    }
  }
  X <- nn_read_matrix(content$X, "X")
  y <- nn_read_matrix(content$y, "y")
  if (!is.list(content$layers) || !is.null(names(content$layers)) || length(content$layers) == 0) {
    nn_input_error("layers", "must be a non-empty array of layers", category = "structure")
  }
  layers <- Map(
    function(layer, number) nn_read_layer(layer, sprintf("layers[%d]", number)),
    content$layers, seq_along(content$layers)
  )
  batch_size <- content[["batch_size"]]
  shuffle <- if (is.null(content[["shuffle"]])) FALSE else content[["shuffle"]]
  seed <- content[["seed"]]
  nn_check_training(layers, X, y, content$lr, content$epochs, batch_size, shuffle, seed)
  expected <- content[["expected"]]
  list(
    name = content$name, description = content$description, X = X, y = y,
    layers = layers, lr = as.numeric(content$lr), epochs = as.integer(content$epochs),
    batch_size = if (is.null(batch_size)) NULL else as.integer(batch_size),
    shuffle = shuffle, seed = if (is.null(seed)) NULL else as.numeric(seed),
    expected = if (is.null(expected)) NULL else nn_read_expected(expected, y)
  )
}

# A JSON object with all the keys required, maybe some optional, each once.
nn_check_object <- function(value, field, required, optional = character()) {
  allowed <- c(required, optional)
  if (!is.list(value) || is.null(names(value))) {
    nn_input_error(
      field, paste("must be a JSON object; got", nn_describe(value)),
      category = "structure"
    )
  }
  prefix <- if (is.null(field)) "" else paste0(field, ".")
  for (key in unique(names(value)[duplicated(names(value))])) {
    nn_input_error(paste0(prefix, key), "appears more than once", category = "structure")
  }
  for (key in names(value)) {
    if (!(key %in% allowed)) {
      nn_input_error(paste0(prefix, key), sprintf(
        "is not a field of %s (the fields are %s)",
        nn_fixture_format, paste(allowed, collapse = ", ")
      ), category = "structure")
    }
  }
  for (key in required) {
    if (!(key %in% names(value))) {
      nn_input_error(paste0(prefix, key), "is missing", category = "structure")
    }
  }
}

nn_read_layer <- function(value, field) {
  nn_check_object(value, field, nn_layer_fields)
  weights <- nn_read_matrix(value$weights, paste0(field, ".weights"))
  bias <- if (is.null(value$bias)) NULL else nn_read_numbers(value$bias, paste0(field, ".bias"))
  if (!(is.character(value$activation) && length(value$activation) == 1)) {
    nn_input_error(
      paste0(field, ".activation"),
      paste("must be a string; got", nn_describe(value$activation)),
      category = "structure"
    )
  }
  list(weights = weights, bias = bias, activation = value$activation)
}

nn_read_expected <- function(value, y) {
  nn_check_object(value, "expected", nn_expected_fields)
  field <- "expected.untrained_half_squared_error"
  values <- nn_read_matrix(value$untrained_half_squared_error, field)
  if (!identical(dim(values), dim(y))) {
    nn_input_error(
      field, sprintf("must have the shape of y, %d x %d", nrow(y), ncol(y)),
      category = "shape"
    )
  }
  nn_check_whole(value$decimals, "expected.decimals", 0, 17)
  list(untrained_half_squared_error = values, decimals = as.integer(value$decimals))
}

# A JSON array of equally long rows of numbers, as a numeric matrix.
nn_read_matrix <- function(value, field) {
  if (!is.list(value) || !is.null(names(value)) || length(value) == 0) {
    nn_input_error(
      field, "must be a non-empty array of rows (arrays of numbers)",
      category = "structure"
    )
  }
  for (number in seq_along(value)) {
    row <- nn_read_numbers(value[[number]], field, row = number)
    if (length(row) != length(value[[1]])) {
      nn_input_error(field, sprintf(
        "row %d has %d numbers, but row 1 has %d; every row must have the same length",
        number, length(row), length(value[[1]])
      ), category = "shape")
    }
  }
  matrix(as.numeric(unlist(value)), nrow = length(value), byrow = TRUE)
}

# A non-empty JSON array of finite numbers (row `row` of a matrix), as a numeric vector.
nn_read_numbers <- function(value, field, row = NULL) {
  container <- if (is.null(row)) "" else sprintf("row %d ", row)
  if (!is.list(value) || !is.null(names(value)) || length(value) == 0) {
    nn_input_error(
      field, paste0(container, "must be a non-empty array of numbers"),
      category = "structure"
    )
  }
  for (position in seq_along(value)) {
    number <- value[[position]]
    where <- if (is.null(row)) {
      sprintf("entry %d", position)
    } else {
      sprintf("row %d, column %d", row, position)
    }
    if (!nn_is_number(number)) {
      nn_input_error(
        field, paste0(where, " is ", nn_describe(number), ", not a number"),
        category = "structure"
      )
    }
    if (!is.finite(number)) {
      nn_input_error(field, paste0(where, " is not finite; NaN and Infinity are refused"))
    }
  }
  as.numeric(unlist(value))
}

#' nn_train the fixture's network on its data, with all its settings.
#' @param fixture a fixture, as nn_load_fixture returns it.
#' @param trace,progress,... as in nn_train (trace_every, trace_quantities, trace_limit).
#' @return as nn_train.
nn_train_fixture <- function(fixture, trace = FALSE, progress = NULL, ...) {
  f <- fixture
  nn_train(f$layers, f$X, f$y, f$lr, f$epochs, trace = trace, batch_size = f[["batch_size"]],
           shuffle = isTRUE(f[["shuffle"]]), seed = f[["seed"]], progress = progress, ...)
}

#' Write a fixture so that every double reads back exactly, in R and in Python.
#'
#' The fixture is checked first; on any error nothing is written. The file is
#' written beside path under a temporary name, then renamed over it, so a failed
#' write never leaves a half-written file.
#' @param fixture list(name, description, X, y, layers, lr, epochs).
#' @param path the file.
nn_save_fixture <- function(fixture, path) {
  f <- fixture
  nn_check_training(f$layers, f$X, f$y, f$lr, f$epochs, f[["batch_size"]],
                    isTRUE(f[["shuffle"]]), f[["seed"]])
  layers <- paste(vapply(f$layers, function(layer) {
    bias <- if (is.null(layer$bias)) "null" else nn_json_row(nn_format_numbers(layer$bias))
    paste0(
      "    {\n",
      '      "weights": ', nn_json_matrix(layer$weights, "      "), ",\n",
      '      "bias": ', bias, ",\n",
      '      "activation": ', nn_json_string(layer$activation), "\n",
      "    }"
    )
  }, character(1)), collapse = ",\n")
  fields <- list(
    format = nn_json_string(nn_fixture_format),
    name = nn_json_string(f$name),
    description = nn_json_string(f$description),
    X = nn_json_matrix(f$X, "  "),
    y = nn_json_matrix(f$y, "  "),
    layers = paste0("[\n", layers, "\n  ]"),
    lr = nn_format_numbers(f$lr),
    epochs = sprintf("%d", as.integer(f$epochs))
  )
  # The optional fields, only where they differ from their default.
  if (!is.null(f[["batch_size"]])) {
    fields$batch_size <- sprintf("%d", as.integer(f[["batch_size"]]))
  }
  if (isTRUE(f[["shuffle"]])) {
    fields$shuffle <- "true"
  }
  if (!is.null(f[["seed"]])) {
    fields$seed <- sprintf("%d", as.integer(f[["seed"]]))
  }
  if (!is.null(f[["expected"]])) {
    errors <- nn_json_matrix(f$expected$untrained_half_squared_error, "    ")
    decimals <- as.integer(f$expected$decimals)
    fields$expected <- sprintf(
      '{\n    "untrained_half_squared_error": %s,\n    "decimals": %d\n  }', errors, decimals
    )
  }
  text <- paste0(
    "{\n", paste0('  "', names(fields), '": ', unlist(fields), collapse = ",\n"), "\n}\n"
  )
  nn_write_atomically(path, text)
}

nn_json_string <- function(text) {
  as.character(jsonlite::toJSON(text, auto_unbox = TRUE))
}

nn_json_row <- function(values) {
  paste0("[", paste(values, collapse = ", "), "]")
}

nn_json_matrix <- function(matrix, indent) {
  # Format every number in one call: nn_format_numbers reads them all back at once.
  numbers <- matrix(nn_format_numbers(as.vector(matrix)), nrow = nrow(matrix))
  rows <- paste0(indent, "  ", apply(numbers, 1, nn_json_row), collapse = ",\n")
  paste0("[\n", rows, "\n", indent, "]")
}

#' Write the long table of nn_trace_table as CSV, every value exact.
#'
#' The header is epoch,iteration,step,layer,quantity,row,col,value; values are
#' written as in fixtures, so they read back to the bit. Python's write_trace_csv
#' writes the same header and rows for the same run.
#' @param trace a trace.
#' @param path the file.
nn_write_trace_csv <- function(trace, path) {
  table <- nn_trace_table(trace)
  table$value <- nn_format_numbers(table$value)
  lines <- c(paste(names(table), collapse = ","), do.call(paste, c(table, sep = ",")))
  nn_write_atomically(path, paste0(paste(lines, collapse = "\n"), "\n"))
}

#' Write content beside path under a temporary name, then rename it to path.
#'
#' A write that fails half-way leaves the file at path as it was.
#' @param path the file.
#' @param content one string (written as UTF-8), or a raw vector.
nn_write_atomically <- function(path, content) {
  temporary <- tempfile(paste0(".", basename(path), "."), tmpdir = dirname(path), fileext = ".tmp")
  on.exit(unlink(temporary))
  writeBin(if (is.raw(content)) content else charToRaw(enc2utf8(content)), temporary)
  if (!file.rename(temporary, path)) {
    stop(sprintf("%s: cannot be written (renaming %s failed)", path, temporary), call. = FALSE)
  }
}

# ---- Plots -----------------------------------------------------------------------
# Pictures of training: the loss curve, and for two features the decision boundary,
# with base graphics only. Python's plots module draws the same pictures.

# One colour per class, as in Python's CLASS_COLOURS.
nn_class_colours <- c("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd")

#' Write a PNG: the loss of every epoch, and beside it, for data of two features,
#' the decision boundary of the trained network with the samples.
#' @param result what nn_train returned.
#' @param fixture the fixture whose data the network was trained on.
#' @param path the file.
nn_plot_training <- function(result, fixture, path) {
  two_features <- ncol(fixture$X) == 2
  temporary <- tempfile(fileext = ".png")
  on.exit(unlink(temporary))
  grDevices::png(temporary, width = if (two_features) 1100 else 600, height = 450,
                 type = "cairo")
  graphics::par(mfrow = c(1, if (two_features) 2 else 1))
  nn_draw_loss(result$loss, fixture$name)
  if (two_features) {
    nn_draw_boundary(result$layers, fixture$X, fixture$y)
  }
  grDevices::dev.off()
  nn_write_atomically(path, readBin(temporary, "raw", file.size(temporary)))
}

nn_draw_loss <- function(loss, name) {
  graphics::plot(seq_along(loss), loss, type = "l", xlab = "epoch",
                 ylab = "loss, mean of (y - output)^2 / 2", main = paste0(name, ": loss"))
}

nn_draw_boundary <- function(layers, X, y) {
  margin <- 0.1 * (apply(X, 2, max) - apply(X, 2, min))
  grid_x <- seq(min(X[, 1]) - margin[1], max(X[, 1]) + margin[1], length.out = 200)
  grid_y <- seq(min(X[, 2]) - margin[2], max(X[, 2]) + margin[2], length.out = 200)
  grid <- as.matrix(expand.grid(grid_x, grid_y))
  classes <- if (ncol(y) > 1) max.col(y) - 1 else as.integer(y[, 1] >= 0.5)
  colours <- nn_class_colours[(seq_len(max(max(classes) + 1, 2)) - 1) %% 5 + 1]
  if (ncol(y) == 1) {
    surface <- matrix(nn_predict(layers, grid)[, 1], length(grid_x))
    shades <- grDevices::colorRampPalette(c("#9ab7d6", "#f7f7f7", "#e5a3a3"))(10)
    graphics::image(grid_x, grid_y, surface, breaks = seq(0, 1, by = 0.1), col = shades,
                    useRaster = TRUE, xlab = "feature 1", ylab = "feature 2",
                    main = "decision boundary")
    graphics::contour(grid_x, grid_y, surface, levels = 0.5, drawlabels = FALSE, add = TRUE,
                      lwd = 2)
  } else {
    regions <- matrix(nn_predict_class(layers, grid) - 1, length(grid_x))
    faded <- grDevices::adjustcolor(colours, alpha.f = 0.25)
    graphics::image(grid_x, grid_y, regions, breaks = seq(-0.5, length(colours) - 0.5),
                    col = faded, useRaster = TRUE, xlab = "feature 1", ylab = "feature 2",
                    main = "decision boundary")
  }
  graphics::points(X[, 1], X[, 2], pch = 21, cex = 0.7, bg = colours[classes + 1], col = "white")
}

# ---- Explain ---------------------------------------------------------------------
# The eleven steps of one iteration as a person reads them: each step, its formula
# in words, and the matrices it makes, as text. Python's explain writes the same text
# (and can write a spreadsheet like the article's).

#' The steps of one iteration of training a fixture, each with the matrices it makes.
#'
#' @param fixture a fixture, as nn_load_fixture returns it; or a list of layers, trained
#'   full-batch on X, y with lr.
#' @param epoch from 1. The fixture is trained, untraced, to the start of that epoch,
#'   then stepped to the iteration shown.
#' @param iteration from 1 to the number of batches per epoch (1 in full-batch training).
#' @param X,y,lr the data and the learning rate, when fixture is a list of layers.
#' @return list(title, steps): per step of the run, in its order,
#'   list(step = <its number>, sentence = <its formula in words>,
#'   matrices = <named list of its matrices>).
nn_explain_steps <- function(fixture, epoch = 1, iteration = 1, X = NULL, y = NULL, lr = NULL) {
  f <- fixture
  if (is.null(f[["X"]])) {
    if (is.null(X) || is.null(y) || is.null(lr)) {
      nn_input_error("X", "explaining layers needs X, y and lr too", category = "structure")
    }
    f <- list(name = "the network", description = "", X = X, y = y, layers = f, lr = lr,
              epochs = epoch)
  }
  n_samples <- nrow(f$X)
  batch_size <- if (is.null(f[["batch_size"]])) n_samples else min(f[["batch_size"]], n_samples)
  n_batches <- ceiling(n_samples / batch_size)
  nn_check_whole(epoch, "epoch", 1)
  nn_check_whole(iteration, "iteration", 1, n_batches)
  # Train to the start of the epoch, then step through its batches to the one shown.
  f$epochs <- epoch - 1
  start <- nn_train_fixture(f)
  epoch_batches <- nn_batches(f$X, f$y, batch_size, isTRUE(f[["shuffle"]]), start$state)$batches
  layers <- start$layers
  for (batch in epoch_batches[seq_len(iteration - 1)]) {
    layers <- nn_step(layers, batch$X, batch$y, f$lr)$layers
  }
  batch <- epoch_batches[[iteration]]
  now <- nn_step(layers, batch$X, batch$y, f$lr)
  n_layers <- length(layers)
  title <- sprintf("Epoch %d, iteration %d of %d, of %s (%d samples, lr %g)",
                   epoch, iteration, n_batches, f$name, n_samples, f$lr)
  step <- function(number, sentence, matrices) {
    list(step = number, sentence = sentence, matrices = matrices)
  }
  steps <- list(step(
    0, sprintf("Take the batch: rows %s of X, and their targets y.",
               paste(batch$rows, collapse = ", ")),
    list("A0 = X" = batch$X, y = batch$y)
  ))
  before <- list()
  for (number in seq_len(n_layers)) {
    before[[paste0("W", number)]] <- layers[[number]]$weights
    if (!is.null(layers[[number]]$bias)) {
      before[[paste0("b", number)]] <- matrix(layers[[number]]$bias, nrow = 1)
    }
  }
  first <- epoch == 1 && iteration == 1
  steps <- c(steps, list(step(1, paste(
    "The weights and biases",
    if (first) "drawn at the start." else "as the previous iteration left them."
  ), before)))
  values <- nn_step_values(now)
  quantities <- nn_trace_steps(n_layers)
  for (i in seq_len(nrow(quantities))) {
    number <- quantities$layer[i]
    quantity <- quantities$quantity[i]
    if (quantity == "samples" || (quantity == "bias" && is.null(layers[[number]]$bias))) {
      next
    }
    if (quantity == "loss") { # with the error it is computed from
      steps[[length(steps)]]$matrices$loss <- matrix(now$loss)
    } else {
      sentence <- nn_explain_sentence(quantity, number, n_layers, layers[[number]], f$lr)
      matrices <- stats::setNames(list(values[[quantity]][[number]]),
                                  nn_explain_symbol(quantity, number))
      steps <- c(steps, list(step(quantities$step[i], sentence, matrices)))
    }
  }
  list(title = title, steps = steps)
}

#' The eleven steps of one iteration of training a fixture (or layers), as text.
#'
#' Each step, its formula in words, and the matrices it makes, rounded; see
#' nn_explain_steps for the arguments.
#' @inheritParams nn_explain_steps
#' @param digits decimals to round to.
#' @return one string; cat() it.
nn_explain <- function(fixture, epoch = 1, iteration = 1, digits = 3, X = NULL, y = NULL,
                       lr = NULL) {
  nn_check_whole(digits, "digits", 0, 15)
  explained <- nn_explain_steps(fixture, epoch, iteration, X, y, lr)
  lines <- sprintf("%s; numbers rounded to %d decimals.", explained$title, digits)
  for (step in explained$steps) {
    lines <- c(lines, "", sprintf("Step %d. %s", step$step, step$sentence))
    for (name in names(step$matrices)) {
      matrix <- step$matrices[[name]]
      lines <- c(lines, sprintf("%s (%d x %d)", name, nrow(matrix), ncol(matrix)),
                 nn_format_matrix(matrix, digits))
    }
  }
  paste0(paste(lines, collapse = "\n"), "\n")
}

# The step's formula, in words.
nn_explain_sentence <- function(quantity, l, n_layers, layer, lr) {
  which <- if (l == n_layers) "The output layer" else sprintf("Hidden layer %d", l)
  bias <- if (is.null(layer$bias)) "" else sprintf(" + b%d", l)
  switch(quantity,
    layer_input = sprintf("%s's input: Z%d = A%d W%d%s.", which, l, l - 1, l, bias),
    activation = sprintf(
      "%s's activation: A%d = %s(Z%d)%s", which, l, layer$activation, l,
      if (l == n_layers) ", the output." else "."
    ),
    error = sprintf("The error at the output: E = y - A%d.", l),
    slope = sprintf(
      "%s's slope, from its output: S%d = %s.", which, l,
      gsub("A", paste0("A", l), nn_activations[[layer$activation]]$slope_formula, fixed = TRUE)
    ),
    delta = sprintf(
      "%s's delta: D%d = %s", which, l,
      if (l == n_layers) sprintf("E * S%d.", l) else sprintf("H%d * S%d.", l, l)
    ),
    error_at_layer = sprintf(
      "The error at hidden layer %d: H%d = D%d W%d^T, with the weights from before this update.",
      l, l, l + 1, l + 1
    ),
    weights = sprintf(
      "%s's weights move by lr times the gradient summed over the batch: W%d = W%d + %g A%d^T D%d.",
      which, l, l, lr, l - 1, l
    ),
    bias = sprintf(
      "%s's bias moves by lr times its delta summed over the batch: b%d = b%d + %g colsum(D%d).",
      which, l, l, lr, l
    )
  )
}

nn_explain_symbol <- function(quantity, l) {
  switch(quantity,
    layer_input = paste0("Z", l), activation = paste0("A", l), error = "E",
    slope = paste0("S", l), delta = paste0("D", l), error_at_layer = paste0("H", l),
    weights = paste0("W", l), bias = paste0("b", l)
  )
}

nn_format_rounded <- function(x, digits) {
  text <- sprintf(paste0("%.", digits, "f"), x)
  zero <- as.numeric(text) == 0
  text[zero] <- sub("^-", "", text[zero]) # -0.000 reads as 0.000
  text
}

# Rows of numbers right-aligned in columns of one width, indented by two spaces.
nn_format_matrix <- function(matrix, digits) {
  cells <- matrix(nn_format_rounded(matrix, digits), nrow = nrow(matrix))
  width <- max(nchar(cells))
  apply(cells, 1, function(row) paste0("  ", paste(formatC(row, width = width), collapse = "  ")))
}
