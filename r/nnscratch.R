# nnscratch: the article's multi-layer perceptron, written to be read.
#
# source("r/nnscratch.R") only defines nn_* functions and tables. The same calls
# exist in Python (import nnscratch) without the nn_ prefix. The sections below
# follow one order, the same as Python's modules: activations; the network
# (initialisation, forward, backward, step, train, predict); the trace; checks; the
# generator; files; plots; explain; the page; check (the grader).

# ---- Activations ---------------------------------------------------------------
# Each slope is written from the activation's *output* a = f(z), as the article
# does (sigmoid: a * (1 - a)), so step 6 needs only the activations of the forward
# pass. Adding an activation is one entry in nn_activations: the function, its
# slope, and how nn_explain writes the slope.

# Each takes and gives a numeric matrix of one shape.
# Logistic function 1 / (1 + exp(-z)), elementwise. For z below about -709, exp(-z) is
# Inf and the result is exactly 0, the limit.
nn_sigmoid <- function(z) 1 / (1 + exp(-z))
# Derivative of the sigmoid at z, written from its output a = nn_sigmoid(z).
nn_sigmoid_slope <- function(a) a * (1 - a)
# Hyperbolic tangent, elementwise, and its derivative from its output a = tanh(z).
nn_tanh <- function(z) tanh(z)
nn_tanh_slope <- function(a) 1 - a * a
# Rectified linear unit max(z, 0), and its derivative from its output: 1 where a > 0,
# else 0 (so 0 at exactly 0).
nn_relu <- function(z) pmax(z, 0)
nn_relu_slope <- function(a) (a > 0) * 1
# The identity, for regression outputs, and its derivative: 1 everywhere.
nn_linear <- function(z) z
nn_linear_slope <- function(a) array(1, dim(a))

#' The activations, one entry each, as Python's ACTIVATIONS.
#'
#' `f`, A = f(Z) (steps 3 and 4); `slope`, S = slope(A), the derivative at Z from the
#' output A (step 6); `slope_formula`, the slope as nn_explain writes it, in terms of A
#' (* elementwise).
#' @export
nn_activations <- list(
  sigmoid = list(f = nn_sigmoid, slope = nn_sigmoid_slope, slope_formula = "A * (1 - A)"),
  tanh = list(f = nn_tanh, slope = nn_tanh_slope, slope_formula = "1 - A * A"),
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
#' @export
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
#' @noRd
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
#' @noRd
nn_glorot_init <- function(state, n_inputs, n_units, bias) {
  draws <- nn_lehmer_uniform(state, n_inputs * n_units)
  limit <- sqrt(6 / (n_inputs + n_units))
  weights <- limit * (2 * draws$draws - 1)
  list(
    weights = matrix(weights, n_inputs, n_units, byrow = TRUE),
    bias = if (bias) numeric(n_units) else NULL, state = draws$state
  )
}

#' The ways nn_init_layers draws weights, as Python's INITIALISERS: "uniform" (the
#' article's) and "glorot".
#' @export
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
#' @export
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
  numbers <- sum((as.numeric(sizes[-length(sizes)]) + 1) * as.numeric(sizes[-1]))
  nn_check_memory("sizes", "the layers", 8 * numbers)
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
#' @export
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
#' @export
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
#' @export
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
  updated <- vector("list", length(layers))
  for (l in seq_along(layers)) {
    layer <- layers[[l]]
    previous <- if (l == 1) X else activation[[l - 1]]
    # Step 10: the weights move by lr times the gradient summed over the batch.
    # crossprod(A, D) is t(A) %*% D, without making t(A).
    weights <- layer$weights + lr * crossprod(previous, delta[[l]])
    # Step 11: the bias moves by lr times the delta summed over the batch.
    # .colSums is colSums without its checks on what it is given.
    bias <- if (is.null(layer$bias)) NULL else
      layer$bias + lr * .colSums(delta[[l]], nrow(X), ncol(delta[[l]]))
    updated[[l]] <- list(weights = weights, bias = bias, activation = layer$activation)
  }
  list(layers = updated, layer_input = forward$layer_input, activation = activation,
       error = error, loss = loss, slope = backward$slope, delta = delta,
       error_at_layer = backward$error_at_layer)
}

#' Train by gradient descent: nn_step on every batch of every epoch.
#'
#' @param layers the initial network (a list of layers, as nn_layer makes them); R
#'   copies it, so the caller's stays as it was.
#' @param X numeric matrix, n_samples x n_features; or a data.frame of numeric columns.
#' @param y numeric matrix, n_samples x n_outputs; or a factor, one class per sample,
#'   which trains as its one-hot matrix (nn_one_hot(y): one output per level, in the
#'   order of levels(y); nn_predict_class then gives each sample's level by number).
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
#' @param trace_csv write the trace's long table (nn_trace_table) to this CSV file as
#'   training makes it, keeping nothing in memory (trace_every and trace_quantities
#'   apply). The file is put in place when training ends; if it stops on an error (or
#'   Ctrl-C), the old file is left as it was.
#' @return an nn_result: list(layers = <trained>, loss = <numeric, one per epoch, over
#'   all its batches, each before its update>, trace = <an nn_trace, or NULL>, state =
#'   <the generator's state at the end>), with print, summary, plot and predict methods.
#' @section Errors: nnscratch_input_error for bad arguments, naming the argument;
#'   and for lr when training diverges: at the first update that gives a number
#'   that is not finite, naming its epoch and iteration.
#' @examples
#' fixture <- nn_load_fixture("article")
#' result <- nn_train(fixture$layers, fixture$X, fixture$y, fixture$lr, epochs = 1000)
#' result
#' predict(result, fixture$X)
#' @export
nn_train <- function(layers, X, y, lr, epochs, trace = FALSE, batch_size = NULL,
                     shuffle = FALSE, seed = NULL, first_epoch = 1, progress = NULL,
                     trace_every = 1, trace_quantities = NULL, trace_limit = 1e9,
                     trace_csv = NULL) {
  if (is.factor(y)) y <- nn_one_hot(y)
  X <- nn_as_matrix(X, "X")
  y <- nn_as_matrix(y, "y")
  recording <- nn_recording(trace, trace_every, trace_quantities, trace_limit, trace_csv)
  nn_check_training(layers, X, y, lr, epochs, batch_size, shuffle, seed, first_epoch, progress)
  nn_check_recording(recording, layers, X, batch_size, epochs, first_epoch)
  n_samples <- nrow(X)
  batch_size <- if (is.null(batch_size)) n_samples else min(batch_size, n_samples)
  loss <- numeric(epochs)
  state <- seed
  recorder <- NULL
  # On an error, or Ctrl-C, a trace CSV's temporary file goes; after its commit, nothing.
  on.exit(nn_close_recorder(recorder, commit = FALSE))
  # Ctrl-C waits until recorder holds the trace CSV, for on.exit to find it.
  suspendInterrupts(
    recorder <- nn_open_recorder(recording, layers, n_samples, batch_size, epochs, first_epoch)
  )
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
      epoch_loss <- epoch_loss + now$loss * (length(batch$rows) / n_samples)
      if (!is.null(recorder)) nn_record(recorder, epoch, iteration, batch$rows, now)
    }
    loss[epoch - first_epoch + 1] <- epoch_loss
    if (!is.null(progress)) progress(epoch, epoch_loss)
  }
  nn_close_recorder(recorder, commit = TRUE)
  trace <- if (is.null(recorder$trace)) NULL else nn_recorded_trace(recorder)
  structure(list(layers = layers, loss = loss, trace = trace, state = state), class = "nn_result")
}

#' The recorder that nn_train fills as recording asks, or NULL when it asks for nothing.
#'
#' Its arguments are nn_train's, checked. nn_close_recorder puts a trace CSV in place
#' (commit = TRUE); on an error, or Ctrl-C, it removes its temporary file and the old
#' file stays as it was (commit = FALSE; after the commit, nothing to remove).
#' @param recording what nn_recording made.
#' @param layers,n_samples,batch_size,epochs,first_epoch as nn_new_recorder takes them.
#' @noRd
nn_open_recorder <- function(recording, layers, n_samples, batch_size, epochs, first_epoch) {
  csv <- NULL
  if (!is.null(recording$csv)) {
    csv <- nn_open_trace_csv(recording$csv, nn_kept_steps(layers, recording$quantities))
  }
  if (!(recording$trace || !is.null(csv))) {
    return(NULL)
  }
  tryCatch(
    nn_new_recorder(layers, n_samples, batch_size, epochs, first_epoch, recording$trace,
                    recording$every, recording$quantities, csv),
    error = function(error) {
      if (!is.null(csv)) csv$abort()
      stop(error)
    }
  )
}

#' @rdname nn_open_recorder
#' @param recorder what nn_open_recorder returned.
#' @param commit put the trace CSV in place, or remove it.
#' @noRd
nn_close_recorder <- function(recorder, commit) {
  if (!is.null(recorder$csv)) {
    if (commit) recorder$csv$commit() else recorder$csv$abort()
  }
}

#' The network's output for X.
#'
#' @param layers list of layers.
#' @param X numeric matrix, n_samples x n_features; or a data.frame of numeric columns.
#' @return numeric matrix, n_samples x n_outputs.
#' @export
nn_predict <- function(layers, X) {
  X <- nn_as_matrix(X, "X")
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
#' @export
nn_predict_class <- function(layers, X) {
  output <- nn_predict(layers, X)
  if (ncol(output) == 1) {
    return(as.integer(output[, 1] >= 0.5))
  }
  max.col(output, ties.method = "first")
}

#' One column per class: 1 where the sample is of that class, 0 elsewhere.
#'
#' The y that nn_train takes for classes: nn_train(layers, X, y) with a factor y trains on
#' nn_one_hot(y). Python's one_hot gives the same matrix.
#' @param y the class of each sample: a factor, or a vector of numbers or strings.
#' @param classes the classes, in the order of the columns; NULL: the levels of a factor,
#'   or else the distinct values of y, sorted (strings by their bytes, as Python sorts).
#' @return numeric matrix, length(y) x length(classes), with the classes as column names.
#' @export
nn_one_hot <- function(y, classes = NULL) {
  if (is.null(classes)) {
    classes <- if (is.factor(y)) levels(y) else sort(unique(y), method = "radix")
  }
  labels <- as.character(y)
  unknown <- !(labels %in% as.character(classes))
  if (any(unknown)) {
    nn_input_error("y", sprintf(
      "sample %d is of class '%s', which is not one of the classes (%s)",
      which(unknown)[1], labels[unknown][1], paste(classes, collapse = ", ")
    ))
  }
  encoded <- outer(labels, as.character(classes), "==") * 1
  dimnames(encoded) <- list(NULL, as.character(classes))
  encoded
}

# A network in one line: "4 -> 3 sigmoid -> 1 sigmoid", its inputs and each layer's units.
nn_describe_network <- function(layers) {
  units <- vapply(layers, function(layer) sprintf("%d %s", ncol(layer$weights), layer$activation),
                  "")
  paste(c(nrow(layers[[1]]$weights), units), collapse = " -> ")
}

#' What nn_train returned, in a few lines (print) or per layer (summary).
#'
#' Python's TrainResult shows the same lines.
#' @param x,object an nn_result, as nn_train returns it.
#' @param ... unused.
#' @return format: the lines, as a character vector; print: x, invisibly; summary: a
#'   data.frame, one row per layer of the trained network: its inputs, units,
#'   activation, whether it has a bias, and the smallest and largest weight.
#' @export
format.nn_result <- function(x, ...) {
  epochs <- length(x$loss)
  c(
    paste("Trained network", nn_describe_network(x$layers)),
    if (epochs == 0) {
      "no epochs: the layers are the initial ones"
    } else {
      sprintf("loss %.6g in epoch 1, %.6g in epoch %d", x$loss[1], x$loss[epochs], epochs)
    },
    if (is.null(x$trace)) "no trace" else sprintf("traced iterations: %d", length(x$trace$loss))
  )
}

#' @rdname format.nn_result
#' @export
print.nn_result <- function(x, ...) {
  cat(format(x), sep = "\n")
  invisible(x)
}

#' @rdname format.nn_result
#' @export
summary.nn_result <- function(object, ...) {
  layers <- object$layers
  data.frame(
    layer = seq_along(layers),
    inputs = vapply(layers, function(layer) nrow(layer$weights), 1L),
    units = vapply(layers, function(layer) ncol(layer$weights), 1L),
    activation = vapply(layers, function(layer) layer$activation, ""),
    bias = vapply(layers, function(layer) !is.null(layer$bias), TRUE),
    smallest_weight = vapply(layers, function(layer) min(layer$weights), 1),
    largest_weight = vapply(layers, function(layer) max(layer$weights), 1)
  )
}

#' The trained network's output, or its classes, for new data.
#'
#' @param object an nn_result, as nn_train returns it.
#' @param newdata numeric matrix or data.frame, n_samples x n_features.
#' @param type "output" (nn_predict) or "class" (nn_predict_class).
#' @param ... unused.
#' @return as nn_predict or nn_predict_class.
#' @export
predict.nn_result <- function(object, newdata, type = c("output", "class"), ...) {
  if (match.arg(type) == "class") {
    return(nn_predict_class(object$layers, newdata))
  }
  nn_predict(object$layers, newdata)
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
#' @export
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
#' @export
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
#' @noRd
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
#' @noRd
nn_trace_bytes <- function(layers, batch_size, iterations, quantities = NULL) {
  shapes <- nn_trace_shapes(layers, batch_size, quantities)
  8 * iterations * (batch_size + 1 + sum(shapes$rows * shapes$cols))
}

#' An unfilled trace (every value NA, every sample 0) for iterations updates.
#' @inheritParams nn_trace_bytes
#' @noRd
nn_new_trace <- function(layers, batch_size, iterations, quantities = NULL) {
  recorded <- lapply(layers, function(layer) list())
  shapes <- nn_trace_shapes(layers, batch_size, quantities)
  for (i in seq_len(nrow(shapes))) {
    recorded[[shapes$layer[i]]][[shapes$quantity[i]]] <-
      array(NA_real_, c(iterations, shapes$rows[i], shapes$cols[i]))
  }
  structure(list(
    epoch = integer(iterations), iteration = integer(iterations),
    samples = matrix(0L, iterations, batch_size), loss = rep(NA_real_, iterations),
    layers = recorded
  ), class = "nn_trace")
}

#' How many of the epochs first_epoch to first_epoch + epochs - 1 have a number that is
#' a multiple of every: the epochs a trace records.
#' @param first_epoch,epochs,every as nn_train takes them (every is trace_every).
#' @noRd
nn_recorded_epochs <- function(first_epoch, epochs, every) {
  (first_epoch + epochs - 1) %/% every - (first_epoch - 1) %/% every
}

#' What nn_train is told to record, as its arguments name it: a trace in memory
#' (trace), a trace CSV (csv, a file name or NULL), the epochs whose number is a
#' multiple of every, these quantities (NULL: all), in at most limit bytes of memory.
#' Python's Recording.
#' @noRd
nn_recording <- function(trace = FALSE, every = 1, quantities = NULL, limit = 1e9, csv = NULL) {
  list(trace = trace, every = every, quantities = quantities, limit = limit, csv = csv)
}

#' A recorder: what nn_record fills, iteration by iteration, as training runs.
#'
#' A trace in memory, a trace CSV on the disk (nn_open_trace_csv), or both. An
#' environment, so that nn_record can fill the trace's arrays in place. While it records,
#' the arrays of trace$layers are kept in one flat list, blocks, with the layer and
#' quantity of each: filling an array two lists deep costs R more than the numbers
#' themselves. nn_recorded_trace puts them back.
#' @inheritParams nn_trace_shapes
#' @param n_samples rows of X.
#' @param epochs,first_epoch epochs of the run, and the number of its first.
#' @param trace keep a trace in memory.
#' @param every record the epochs whose number is a multiple of this.
#' @param csv what nn_open_trace_csv returned, or NULL.
#' @return an environment holding trace (without its arrays; NULL without a trace in
#'   memory), blocks, layer, quantity, per_sample (whether each block has a row per
#'   sample), every, csv and filled (how many iterations the trace in memory holds).
#' @noRd
nn_new_recorder <- function(layers, n_samples, batch_size, epochs, first_epoch, trace,
                            every = 1, quantities = NULL, csv = NULL) {
  recorder <- new.env()
  if (trace) {
    iterations <- nn_recorded_epochs(first_epoch, epochs, every) * ceiling(n_samples / batch_size)
    recorded <- nn_new_trace(layers, batch_size, iterations, quantities)
    shapes <- nn_trace_shapes(layers, batch_size, quantities)
    blocks <- vector("list", nrow(shapes))
    for (i in seq_len(nrow(shapes))) {
      blocks[[i]] <- recorded$layers[[shapes$layer[i]]][[shapes$quantity[i]]]
      recorded$layers[[shapes$layer[i]]][[shapes$quantity[i]]] <- NULL
    }
    recorder$trace <- recorded
    recorder$blocks <- blocks
    recorder$layer <- shapes$layer
    recorder$quantity <- shapes$quantity
    recorder$per_sample <- shapes$quantity %in% nn_per_sample
  }
  recorder$every <- every
  recorder$csv <- csv
  recorder$filled <- 0
  recorder
}

#' Record one iteration, when its epoch is one to record.
#'
#' @param recorder as nn_new_recorder makes it.
#' @param epoch,iteration from 1.
#' @param rows the rows of X the batch took, as nn_batches gives them.
#' @param now what nn_step returned; its weights and bias are those after the update.
#' @noRd
nn_record <- function(recorder, epoch, iteration, rows, now) {
  if (epoch %% recorder$every != 0) {
    return(invisible(NULL))
  }
  values <- nn_step_values(now)
  if (!is.null(recorder$csv)) {
    blocks <- nn_step_blocks(recorder$csv$quantities, rows, values, now$loss)
    recorder$csv$write(epoch, iteration, blocks)
  }
  if (is.null(recorder$trace)) {
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
#' @noRd
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
#' @noRd
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
#' @noRd
nn_trace_quantities <- function(trace) {
  steps <- nn_trace_steps(length(trace$layers))
  held <- mapply(function(layer, quantity) {
    layer == 0 || quantity == "loss" || quantity %in% names(trace$layers[[layer]])
  }, steps$layer, steps$quantity)
  steps[held, , drop = FALSE]
}

#' The rows of nn_trace_steps() that a run of layers recording quantities records.
#' @inheritParams nn_trace_shapes
#' @noRd
nn_kept_steps <- function(layers, quantities = NULL) {
  steps <- nn_trace_steps(length(layers))
  shapes <- nn_trace_shapes(layers, 1, quantities)
  kept <- steps$layer == 0 | steps$quantity == "loss" |
    paste(steps$layer, steps$quantity) %in% paste(shapes$layer, shapes$quantity)
  steps[kept, , drop = FALSE]
}

#' One iteration's matrices, one per row of steps, as the long table lists them.
#' @param steps rows of nn_trace_steps(), as nn_kept_steps gives them.
#' @param samples the batch's sample numbers.
#' @param values nn_step_values of the iteration.
#' @param loss its loss.
#' @noRd
nn_step_blocks <- function(steps, samples, values, loss) {
  lapply(seq_len(nrow(steps)), function(i) {
    quantity <- steps$quantity[i]
    if (quantity == "samples") {
      matrix(samples)
    } else if (quantity == "loss") {
      matrix(loss)
    } else {
      values[[quantity]][[steps$layer[i]]]
    }
  })
}

#' Iteration k's matrices in a trace, one per row of steps (as nn_trace_quantities lists
#' them), without the empty rows of a smaller batch.
#' @param trace a trace.
#' @param steps rows of nn_trace_steps().
#' @param k the iteration.
#' @noRd
nn_stored_blocks <- function(trace, steps, k) {
  used <- trace$samples[k, ] > 0
  lapply(seq_len(nrow(steps)), function(i) {
    block <- nn_trace_block(trace, steps$layer[i], steps$quantity[i])
    block <- matrix(block[k, , ], dim(block)[2], dim(block)[3])
    if (steps$quantity[i] %in% nn_per_sample) block[used, , drop = FALSE] else block
  })
}

#' The array [iteration, row, col] of one quantity.
#'
#' samples has one column, loss one row and one column.
#' @param trace a trace.
#' @param layer layer number, from 1 (0 for samples).
#' @param quantity a quantity of nn_trace_steps().
#' @noRd
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
#' @noRd
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
#' @export
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

#' A trace in a few lines (print), or per quantity (summary).
#'
#' Python's Trace shows the same lines.
#' @param x,object an nn_trace, as nn_train(..., trace = TRUE) returns it in $trace.
#' @param ... unused.
#' @return format: the lines, as a character vector; print: x, invisibly; summary: a
#'   data.frame, one row per (layer, quantity) in the order of nn_trace_steps: step,
#'   layer, quantity, rows and cols of one iteration's matrix, and the smallest and
#'   largest number recorded.
#' @export
format.nn_trace <- function(x, ...) {
  epochs <- unique(x$epoch)
  iterations <- length(x$loss)
  lines <- if (iterations == 0) "Trace of no iterations" else sprintf(
    "Trace of iterations 1 to %d: epochs %d to %d, %d per epoch",
    iterations, epochs[1], epochs[length(epochs)], iterations %/% length(epochs)
  )
  c(lines, vapply(seq_along(x$layers), function(l) {
    sprintf("layer %d: %s", l, paste(names(x$layers[[l]]), collapse = ", "))
  }, ""))
}

#' @rdname format.nn_trace
#' @export
print.nn_trace <- function(x, ...) {
  cat(format(x), sep = "\n")
  invisible(x)
}

#' @rdname format.nn_trace
#' @export
summary.nn_trace <- function(object, ...) {
  steps <- nn_trace_quantities(object)
  blocks <- Map(function(layer, quantity) nn_trace_block(object, layer, quantity),
                steps$layer, steps$quantity)
  range_of <- function(block, which) {
    if (all(is.na(block))) NA_real_ else which(block, na.rm = TRUE)
  }
  data.frame(
    steps[c("step", "layer", "quantity")],
    rows = vapply(blocks, function(block) dim(block)[2], 1L),
    cols = vapply(blocks, function(block) dim(block)[3], 1L),
    smallest = vapply(blocks, range_of, 1, min),
    largest = vapply(blocks, range_of, 1, max),
    row.names = NULL
  )
}

# ---- Checks ----------------------------------------------------------------------
# Checks on a network and its data, with messages that name the field at fault.
# Python has the same checks in the same order with the same messages, so that a
# bad fixture is refused with the same words in both languages.

# What kind of thing is wrong; Python's CATEGORIES has the same names.
nn_categories <- c(
  file = "the file cannot be read or written, is not a regular file, or is too large",
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
#' @export
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
#' @noRd
nn_format_numbers <- function(x) {
  # 16 digits first (most numbers need 16 or 17), then 15 for those that 16 serve.
  text <- sprintf("%.16g", x)
  sixteen <- nn_read_numbers_back(text) == x
  text[!sixteen] <- sprintf("%.17g", x[!sixteen])
  fifteen <- which(sixteen)
  shorter <- sprintf("%.15g", x[fifteen])
  fifteen <- nn_read_numbers_back(shorter) == x[fifteen]
  text[which(sixteen)[fifteen]] <- shorter[fifteen]
  whole <- !grepl(".", text, fixed = TRUE) & !grepl("e", text, fixed = TRUE)
  text[whole] <- paste0(text[whole], ".0")
  text
}

# Numbers written as text, read back by jsonlite's parser, which rounds correctly
# (R's as.numeric does not always, in the last bit).
nn_read_numbers_back <- function(text) {
  if (length(text) == 0) {
    return(numeric())
  }
  unlist(jsonlite::parse_json(paste0("[", paste(text, collapse = ","), "]")))
}

#' A short description of a value for an error message: the number, or its JSON type.
#' @param value anything.
#' @return a string.
#' @noRd
nn_describe <- function(value) {
  if (is.atomic(value) && length(value) == 1 && is.na(value) && !is.nan(value)) {
    return("NA") # R's missing value, which JSON and Python do not have
  }
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

# X or y as the checks take them: a data.frame of numeric columns becomes a matrix;
# anything else stays as it is.
nn_as_matrix <- function(value, field) {
  if (!is.data.frame(value)) {
    return(value)
  }
  for (column in names(value)) {
    if (!is.numeric(value[[column]])) {
      nn_input_error(field, sprintf(
        "column '%s' is not numeric; %s takes numbers only (classes go in y, one-hot)",
        column, field
      ), category = "structure")
    }
  }
  as.matrix(value)
}

#' Refuse anything but a non-empty, finite numeric array of ndim dimensions.
#' @param value the array.
#' @param field its name, for the message.
#' @param ndim 1 (a vector, no dim attribute) or 2 (a matrix).
#' @noRd
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
#' @noRd
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
#' @noRd
nn_check_training <- function(layers, X, y, lr, epochs, batch_size = NULL, shuffle = FALSE,
                              seed = NULL, first_epoch = 1, progress = NULL) {
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
  nn_check_boolean(shuffle, "shuffle")
  if (!is.null(seed)) {
    nn_check_seed(seed)
  } else if (shuffle) {
    nn_input_error("seed", "must be given to shuffle", category = "structure")
  }
  nn_check_whole(first_epoch, "first_epoch", 1)
  if (!is.null(progress) && !is.function(progress)) {
    nn_input_error("progress", paste(
      "must be a function of (epoch, loss); got", nn_describe(progress)
    ), category = "structure")
  }
}

#' Refuse anything but TRUE or FALSE.
#' @param value the value.
#' @param field its name, for the message.
#' @noRd
nn_check_boolean <- function(value, field) {
  if (!(isTRUE(value) || isFALSE(value))) {
    nn_input_error(field, paste("must be true or false; got", nn_describe(value)))
  }
}

#' A seed of the Lehmer generator: a whole number from 1 to 2^31 - 2.
#' @param seed the seed.
#' @noRd
nn_check_seed <- function(seed) {
  nn_check_whole(seed, "seed", 1, nn_lehmer_modulus - 1)
}

#' Refuse anything but a whole number from low (to high).
#' @param value the value.
#' @param field its name, for the message.
#' @param low,high the limits; high = NULL for none.
#' @noRd
nn_check_whole <- function(value, field, low, high = NULL) {
  whole <- nn_is_number(value) && is.finite(value) && value == round(value)
  if (!(whole && value >= low && (is.null(high) || value <= high))) {
    limits <- if (is.null(high)) sprintf("%d or more", low) else sprintf("from %d to %d", low, high)
    nn_input_error(field, paste0("must be a whole number, ", limits, "; got ", nn_describe(value)))
  }
}

#' Check what nn_train is told to record (what nn_recording made).
#'
#' What the run would hold in memory, the loss of every epoch and a trace, is
#' estimated here, before anything is allocated: a trace over trace_limit bytes, and
#' anything over the machine's memory, is refused with the estimate.
#' @param recording what nn_recording made.
#' @inheritParams nn_train
#' @noRd
nn_check_recording <- function(recording, layers, X, batch_size, epochs, first_epoch) {
  trace <- recording$trace
  trace_every <- recording$every
  trace_quantities <- recording$quantities
  trace_limit <- recording$limit
  trace_csv <- recording$csv
  nn_check_boolean(trace, "trace")
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
  if (!(nn_is_number(trace_limit) && !is.na(trace_limit) && trace_limit > 0)) {
    nn_input_error("trace_limit", paste("must be a number above 0; got", nn_describe(trace_limit)))
  }
  if (!(is.null(trace_csv) || nn_is_string(trace_csv))) {
    nn_input_error("trace_csv", paste(
      "must be the name of a file, or None; got", nn_describe(trace_csv)
    ), category = "structure")
  }
  nn_check_memory("epochs", sprintf("the losses of %.0f epochs", epochs), 8 * epochs)
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
    nn_check_memory("trace", "the trace", size)
  }
}

# What nn_memory_bytes found: the machine's memory is asked once per session.
nn_machine <- new.env()

#' The machine's memory, in bytes; NA where the system does not say (Linux and macOS do).
#' @noRd
nn_memory_bytes <- function() {
  if (is.null(nn_machine$memory)) {
    nn_machine$memory <- if (file.exists("/proc/meminfo")) {
      total <- grep("^MemTotal:", readLines("/proc/meminfo"), value = TRUE)
      as.numeric(gsub("[^0-9]", "", total)) * 1024
    } else if (Sys.info()[["sysname"]] == "Darwin") {
      as.numeric(system2("sysctl", c("-n", "hw.memsize"), stdout = TRUE))
    } else {
      NA
    }
  }
  nn_machine$memory
}

#' Refuse, before it is allocated, what would take more than the machine's memory.
#' @param field what to name in the message.
#' @param what what would take the memory, for the message.
#' @param size its bytes.
#' @noRd
nn_check_memory <- function(field, what, size) {
  memory <- nn_memory_bytes()
  if (!is.na(memory) && size > memory) {
    nn_input_error(field, sprintf(
      "%s would take about %.0f MB, more than the %.0f MB of memory this machine has",
      what, size / 1e6, memory / 1e6
    ))
  }
}

#' Stop training at the first iteration that gives a number that is not finite.
#'
#' now is what nn_step returned. Its loss plus the sum of the updated weights and
#' biases is finite unless one of those numbers is not (or the sum overflows: then
#' each number is looked at). Python sums their squares, with numpy's cheapest sum,
#' a dot product; R's cheapest is sum() of the numbers themselves.
#' @param now what nn_step returned.
#' @param epoch,iteration where training is, from 1.
#' @noRd
nn_check_finite <- function(now, epoch, iteration) {
  total <- now$loss
  for (layer in now$layers) {
    total <- total + sum(layer$weights, layer$bias)
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

nn_is_string <- function(value) {
  is.character(value) && length(value) == 1 && !is.na(value)
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
#' @noRd
nn_lehmer_next <- function(state) {
  (nn_lehmer_multiplier * state) %% nn_lehmer_modulus
}

#' count draws uniform on [0, 1): (state - 1) / (modulus - 1) of the next states.
#' @param state the current state.
#' @param count how many draws.
#' @return list(draws = <numeric, count>, state = <the new state>).
#' @noRd
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
#' @noRd
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
#' @export
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
# Files, read and written so that nothing is read that should not be and nothing is
# lost. Reads take regular files only and never more than max_bytes + 1 bytes,
# whatever the file's size claims. Writes go to a new file beside the target, created
# under a random name that no link can stand in for, every byte checked written and
# flushed to the disk, then renamed over the target: a write that fails, or is
# interrupted, leaves the old file as it was and no temporary file behind. Errors name
# the file the user gave, never the temporary one. Python's files module does the same
# with the same words.
#
# Then fixtures, which hold a network, its data and how to train it, and trace CSVs.
# The fixture format is nnscratch-fixture/1, described by fixtures/schema.json. Every
# double is written so that it reads back exactly, here and in Python.

#' Signal a file that cannot be used: names the file, category "file".
#' @param path the file, as the user gave it.
#' @param problem what is wrong.
#' @noRd
nn_file_error <- function(path, problem) {
  nn_input_error(NULL, problem, path, category = "file")
}

# The system's words at the end of R's message about a failed operation on a file:
# "..., reason 'Permission denied'" or "...: No space left on device".
nn_reason <- function(message) {
  for (pattern in c("^.*, reason '(.*)'$", "^.*: +(.*)$")) {
    if (grepl(pattern, message)) {
      return(sub(pattern, "\\1", message))
    }
  }
  message
}

# A path R's file functions take as the file it names: a relative path gets "./", so that
# it is never read as a URL, "stdin", "clipboard" or a path from the home folder (~),
# which Python would not do either.
nn_local_path <- function(path) {
  if (grepl("^(/|[A-Za-z]:[/\\\\]|\\\\\\\\)", path)) path else file.path(".", path)
}

# The name of a file: one string, not empty.
nn_check_path <- function(path) {
  if (!nn_is_string(path) || !nzchar(path)) {
    nn_input_error("path", paste("must be the name of a file; got", if (nn_is_string(path)) {
      "an empty string"
    } else {
      nn_describe(path)
    }), category = "structure")
  }
}

#' The bytes of a regular file, refused when it holds more than max_bytes.
#'
#' @param path the file.
#' @param max_bytes a larger file is refused; at most max_bytes + 1 bytes are read,
#'   whatever size the file claims (a file in /proc claims 0).
#' @return a raw vector.
#' @section Errors: nnscratch_fixture_error of category "file": the file is missing or
#'   unreadable, a directory, not a regular file (a FIFO, a device, a socket: nothing
#'   waits on them), or too large.
#' @noRd
nn_read_file <- function(path, max_bytes = 1e8) {
  nn_check_path(path)
  nn_check_whole(max_bytes, "max_bytes", 0)
  local <- nn_local_path(path)
  if (!file.exists(local)) {
    nn_file_error(path, sprintf("cannot be read (%s)", nn_open_reason(local)))
  }
  size <- file.size(local)
  nn_check_regular(path, local, size, "reads")
  if (size > max_bytes) {
    nn_file_error(path, sprintf("is %.0f bytes, over the limit of %.0f (max_bytes)",
                                size, max_bytes))
  }
  # raw = TRUE: the bytes as they are (R would otherwise unpack a compressed file).
  connection <- tryCatch(file(local, "rb", raw = TRUE), error = identity, warning = identity)
  if (inherits(connection, "condition")) {
    nn_file_error(path, sprintf("cannot be read (%s)", nn_reason(conditionMessage(connection))))
  }
  on.exit(close(connection))
  pieces <- list()
  wanted <- min(size, max_bytes) + 1
  total <- 0
  while (total <= max_bytes) {
    piece <- readBin(connection, "raw", wanted)
    if (length(piece) == 0) {
      break
    }
    pieces[[length(pieces) + 1]] <- piece
    total <- total + length(piece)
    wanted <- min(2^20, max_bytes + 1 - total)
  }
  if (total > max_bytes) {
    nn_file_error(path, sprintf("is more than %.0f bytes, over the limit of %.0f (max_bytes)",
                                max_bytes, max_bytes))
  }
  if (length(pieces) == 1) pieces[[1]] else c(raw(0), unlist(pieces, use.names = FALSE))
}

# Why a file cannot be opened, in the system's words.
nn_open_reason <- function(local) {
  reason <- function(e) nn_reason(conditionMessage(e))
  tryCatch({
    close(file(local, "rb", raw = TRUE))
    "it vanished while being read"
  }, error = reason, warning = reason)
}

# Refuse a directory, and anything else that is not a regular file. R does not say what
# kind of file a path names; a file that is not a directory and has bytes is regular
# (FIFOs, devices and sockets claim 0), and `test -f` tells for an empty one.
nn_check_regular <- function(path, local, size, verb) {
  if (dir.exists(local)) {
    nn_file_error(path, "is a directory; give the name of a file")
  }
  regular <- size > 0 || .Platform$OS.type != "unix" ||
    system2("test", c("-f", shQuote(local))) == 0
  if (!regular) {
    nn_file_error(path, sprintf(paste(
      "is not a regular file (a FIFO, a device or a socket); nnscratch %s regular files only"
    ), verb))
  }
}

#' The permissions a new file written to path keeps: the old file's, or NULL.
#'
#' A directory, a FIFO, a device or a socket at path is refused. A symbolic link at
#' path is replaced by the new file, never written through (NULL).
#' @param path the target.
#' @noRd
nn_output_mode <- function(path) {
  local <- nn_local_path(path)
  if (nn_is_link(local) || !file.exists(local)) {
    return(NULL)
  }
  nn_check_regular(path, local, file.size(local), "writes")
  file.mode(local)
}

# Whether a path is a symbolic link (a dangling one too).
nn_is_link <- function(path) {
  link <- Sys.readlink(path)
  !is.na(link) && nzchar(link)
}

#' Whether two paths name the same file: the same name in the same folder, once the
#' folders' links are followed (the names' own links are replaced, not followed).
#' @param first,second the paths.
#' @noRd
nn_same_file <- function(first, second) {
  where <- function(path) {
    local <- nn_local_path(path) # the name as it is written to (no ~ expanded)
    file.path(normalizePath(dirname(local), mustWork = FALSE), basename(local))
  }
  identical(where(first), where(second))
}

# A name for a temporary folder: random, short (a long target name still fits).
nn_temporary_name <- function() {
  basename(tempfile(".nnscratch-", fileext = ".tmp"))
}

#' A file written beside its target under a temporary name, renamed over it at the end.
#'
#' The file is made in a new folder beside the target, which dir.create makes only if
#' nothing (a link included) has its name, readable by its owner alone; R can open no
#' file exclusively, but nothing else can be put inside that folder.
#' @param path the target. An existing file there keeps its permissions.
#' @return list(path, write, commit, abort): write(content, sep = "") writes a raw
#'   vector, or the strings of a character vector, each followed by sep, as UTF-8;
#'   commit() flushes every byte to the disk and renames the file over the target;
#'   abort() removes the temporary file and leaves the target as it was. On any failure
#'   write and commit abort, and the error names the target.
#' @noRd
nn_open_atomically <- function(path) {
  nn_check_path(path)
  mode <- nn_output_mode(path)
  repeat {
    folder <- file.path(dirname(nn_local_path(path)), nn_temporary_name())
    made <- tryCatch(dir.create(folder, mode = "0700"), warning = function(w) {
      conditionMessage(w)
    })
    if (isTRUE(made)) {
      break
    }
    if (!file.exists(folder) && !nn_is_link(folder)) {
      nn_file_error(path, sprintf("cannot be written (%s)", nn_reason(made)))
    }
    # That name is taken (a link planted there, or a file): take another.
  }
  temporary <- file.path(folder, "file")
  opened <- function(e) {
    unlink(folder, recursive = TRUE)
    nn_file_error(path, sprintf("cannot be written (%s)", nn_reason(conditionMessage(e))))
  }
  connection <- tryCatch(file(temporary, "wb", raw = TRUE), error = opened, warning = opened)
  written <- 0
  abort <- function() {
    if (!is.null(connection)) {
      close(connection)
      connection <<- NULL
    }
    unlink(folder, recursive = TRUE)
  }
  fail <- function(reason) {
    abort()
    nn_file_error(path, sprintf("cannot be written (%s)", reason))
  }
  guard <- function(operation) {
    reason <- function(e) fail(nn_reason(conditionMessage(e)))
    tryCatch(operation, error = reason, warning = reason)
  }
  write <- function(content, sep = "") {
    if (is.raw(content)) {
      guard(writeBin(content, connection))
      written <<- written + length(content)
    } else {
      content <- enc2utf8(content)
      guard(writeLines(content, connection, sep = sep, useBytes = TRUE))
      written <<- written + sum(nchar(content, type = "bytes")) + length(content) * nchar(sep)
    }
    invisible(NULL)
  }
  commit <- function() {
    guard(close(connection))
    connection <<- NULL
    if (file.size(temporary) != written) {
      fail(sprintf("the disk took %.0f of its %.0f bytes", file.size(temporary), written))
    }
    nn_sync(temporary, fail)
    if (!is.null(mode)) {
      Sys.chmod(temporary, mode, use_umask = FALSE)
    }
    guard(file.rename(temporary, nn_local_path(path)))
    unlink(folder, recursive = TRUE)
    # The file is in place: a folder whose entries cannot be flushed is no error (as in
    # Python); the rename stands, and the next sync of the disk takes it.
    nn_sync(dirname(nn_local_path(path)), function(reason) invisible(NULL))
    invisible(NULL)
  }
  list(path = path, write = write, commit = commit, abort = abort)
}

# Flush a file (or a folder's entries) to the disk: R has no fsync; the system's sync
# command, given a file, does that (coreutils). On failure, fail(reason).
nn_sync <- function(path, fail) {
  if (.Platform$OS.type != "unix") {
    return(invisible(NULL)) # Windows has no sync command: nothing is flushed there
  }
  said <- suppressWarnings(system2("sync", shQuote(path), stdout = TRUE, stderr = TRUE))
  if (!is.null(attr(said, "status"))) {
    fail(nn_reason(said[length(said)]))
  }
}

#' Write content (a raw vector, or one string written as UTF-8) to path through
#' nn_open_atomically: a write that fails half-way leaves the file at path as it was.
#' @param path the file.
#' @param content a raw vector or a string.
#' @noRd
nn_write_atomically <- function(path, content) {
  file <- NULL
  on.exit(if (!is.null(file)) file$abort())
  suspendInterrupts(file <- nn_open_atomically(path)) # Ctrl-C waits until on.exit can see it
  file$write(content)
  file$commit()
}

#' Each number as nn_format_numbers writes it; not finite: Inf, -Inf, NaN.
#' @param values numeric vector.
#' @return character vector.
#' @noRd
nn_csv_numbers <- function(values) {
  finite <- is.finite(values)
  if (all(finite)) {
    return(nn_format_numbers(values))
  }
  text <- ifelse(is.nan(values), "NaN", ifelse(values > 0, "Inf", "-Inf"))
  text[finite] <- nn_format_numbers(values[finite])
  text
}

#' The long table of a run, written iteration by iteration to a file as training makes it.
#'
#' Each iteration writes its rows (epoch, iteration, step, layer, quantity, row, col,
#' value, in the order of nn_trace_table) and keeps nothing: memory stays the same
#' whatever the run's length. The file is written through nn_open_atomically: commit()
#' puts it in place; abort(), or any error on the way, leaves the old file as it was.
#' @param path the file.
#' @param quantities the rows of nn_trace_steps() each iteration records, in order, as
#'   nn_trace_quantities lists them.
#' @return list(quantities, write, commit, abort): write(epoch, iteration, blocks) writes
#'   one iteration's rows, blocks holding one matrix per row of quantities, the
#'   per-sample ones with the batch's rows only.
#' @noRd
nn_open_trace_csv <- function(path, quantities) {
  file <- nn_open_atomically(path)
  file$write("epoch,iteration,step,layer,quantity,row,col,value", sep = "\n")
  templates <- list()
  # What each row holds after epoch and iteration, but the value; one per shape of the
  # blocks (the last batch of an epoch may be smaller).
  template <- function(shapes) {
    key <- paste(shapes, collapse = " ")
    if (is.null(templates[[key]])) {
      rows <- shapes[c(TRUE, FALSE)]
      cols <- shapes[c(FALSE, TRUE)]
      templates[[key]] <<- unlist(lapply(seq_along(rows), function(i) {
        sprintf("%d,%d,%s,%d,%d,", quantities$step[i], quantities$layer[i],
                quantities$quantity[i], rep(seq_len(rows[i]), each = cols[i]),
                rep(seq_len(cols[i]), times = rows[i]))
      }))
    }
    templates[[key]]
  }
  write <- function(epoch, iteration, blocks) {
    shapes <- unlist(lapply(blocks, dim))
    values <- unlist(lapply(blocks, function(block) as.vector(t(block))))
    # Each row as its pieces, one after another: no string is made for a whole row.
    file$write(c(rbind(paste0(epoch, ",", iteration, ","), template(shapes),
                       nn_csv_numbers(values), "\n")))
  }
  list(quantities = quantities, write = write, commit = file$commit, abort = file$abort)
}

nn_fixture_format <- "nnscratch-fixture/1"
nn_fixture_fields <- c("format", "name", "description", "X", "y", "layers", "lr", "epochs")
nn_fixture_optional_fields <- c("batch_size", "shuffle", "seed", "expected")
nn_layer_fields <- c("weights", "bias", "activation")
nn_expected_fields <- c("untrained_half_squared_error", "decimals")

# The file that source() is reading now (found in source()'s frame), or NULL: in the
# package, or when the file is run line by line.
nn_file_being_sourced <- function() {
  for (frame in rev(sys.frames())) {
    if (is.character(frame$ofile)) {
      return(normalizePath(frame$ofile))
    }
  }
  NULL
}

# This file, when it is source()d.
nn_sourced_from <- if (isNamespace(environment())) NULL else nn_file_being_sourced()

# A file or folder shipped with nnscratch, by its path there: in the installed package;
# or, when this file is source()d, in the folder that holds its folder r/ (a checkout, or
# the Python wheel's nnscratch/data), and in the working directory when it is run line
# by line.
nn_shipped <- function(...) {
  if (isNamespace(topenv(environment()))) {
    return(system.file(..., package = "nnscratch"))
  }
  file.path(if (is.null(nn_sourced_from)) "." else dirname(dirname(nn_sourced_from)), ...)
}

# The folder of the fixtures shipped with nnscratch.
nn_fixture_folder <- function() {
  nn_shipped("fixtures")
}

#' The names of the fixtures shipped with nnscratch, each of which nn_load_fixture takes.
#'
#' @return character vector, in alphabetical order ("article", ...).
#' @export
nn_list_fixtures <- function() {
  files <- list.files(nn_fixture_folder(), pattern = "\\.json$")
  sort(sub("\\.json$", "", files[files != "schema.json"]), method = "radix")
}

# JSON nesting a file may have: a fixture needs 5 (the rows of a layer's weights).
# Deeper is refused before parsing, in both languages, before either parser's own limit.
nn_max_depth <- 64

# A JSON string, quotes included (possessive, so that a long one costs no stack).
nn_json_string_pattern <- '"[^"\\\\]*+(?:\\\\.[^"\\\\]*+)*+"'

#' Read and check a fixture.
#'
#' @param path a fixture file (a regular file), or the name of a fixture shipped with
#'   nnscratch (nn_list_fixtures()), such as "article", when no file has that name.
#' @param max_bytes a larger file is refused before it is read.
#' @return an nn_fixture, with print, summary and plot methods: list(name,
#'   description, X, y, layers, lr, epochs, batch_size, shuffle, seed, expected):
#'   batch_size and seed NULL when the file has none, shuffle FALSE; expected NULL,
#'   or list(untrained_half_squared_error = <matrix of y's shape>, decimals): the
#'   (y - output)^2 / 2 of the initial network, which the tests of both languages
#'   check to that many decimals.
#' @section Errors: an error of class nnscratch_fixture_error if the file cannot be
#'   read, is not a regular file, is too large, is not JSON text that both languages
#'   read alike, or breaks the format; the message names the file and the field.
#'   Nothing is written.
#' @export
nn_load_fixture <- function(path, max_bytes = 1e8) {
  if (nn_is_string(path) && path %in% nn_list_fixtures() && !file.exists(nn_local_path(path))) {
    path <- file.path(nn_fixture_folder(), paste0(path, ".json"))
  }
  bytes <- nn_read_file(path, max_bytes)
  tryCatch(
    nn_parse_fixture(bytes),
    nnscratch_input_error = function(e) nn_input_error(e$field, e$problem, path, e$category)
  )
}

#' The fixture that the bytes of a fixture file hold: what nn_load_fixture does once
#' the file is read (and what nn_save_fixture checks before it writes).
#' @param bytes a raw vector.
#' @section Errors: nnscratch_input_error naming the field, or none for the text as a
#'   whole.
#' @noRd
nn_parse_fixture <- function(bytes) {
  nn_read_fixture(nn_parse_json(bytes))
}

#' JSON text, checked so that R and Python read the same thing from it or refuse it with
#' the same words: UTF-8 without a byte-order mark or NUL bytes, no NUL character and no
#' lone surrogate escaped, nested at most nn_max_depth deep, and no comments (which
#' jsonlite would skip). Only text is parsed, never a path or a URL.
#'
#' NaN and Infinity are not JSON, but Python writes them: they are read as numbers, so
#' that the check for finite numbers names their field.
#' @param bytes a raw vector.
#' @return the parsed JSON: named lists for objects, lists for arrays.
#' @noRd
nn_parse_json <- function(bytes) {
  if (length(bytes) >= 3 && identical(bytes[1:3], as.raw(c(0xef, 0xbb, 0xbf)))) {
    nn_input_error(NULL, "starts with a byte-order mark; JSON is UTF-8 without one",
                   category = "json")
  }
  text <- tryCatch(rawToChar(bytes), error = function(e) NULL)
  if (is.null(text)) {
    nn_input_error(NULL, sprintf(paste(
      "has a NUL byte at byte %d; JSON is UTF-8 text without NUL bytes",
      "(UTF-16 and UTF-32 are refused)"
    ), which(bytes == as.raw(0))[1]), category = "json")
  }
  Encoding(text) <- "UTF-8"
  if (!validUTF8(text)) {
    nn_input_error(NULL, "is not UTF-8 text", category = "json")
  }
  nn_check_escapes(text)
  # Outside strings: the brackets that nest; what JSON has not but jsonlite would take,
  # comments (/), vertical tabs and form feeds (which it reads as spaces); and the letters
  # of true, false, NaN and Infinity that numbers never have (t, f, N, I).
  marks <- gsub(paste0(nn_json_string_pattern, '|[^][{}/\v\f"tfNI]+'), "", text,
                perl = TRUE, useBytes = TRUE)
  if (grepl("[/\v\f]", marks, perl = TRUE, useBytes = TRUE)) {
    nn_input_error(NULL, paste(
      "is not valid JSON (a comment, a vertical tab or a form feed outside a string;",
      "JSON has none)"
    ), category = "json")
  }
  nn_check_depth(marks)
  # NaN and Infinity where a value may stand: NaN becomes a string no valid text makes
  # (a lone surrogate, refused above), turned back into NaN once parsed.
  mark <- jsonlite::parse_json('"\\udfff"')
  marked <- FALSE
  if (grepl("[NI]", marks, perl = TRUE, useBytes = TRUE)) {
    tokens <- gregexpr(paste0(
      nn_json_string_pattern,
      "|(?:^|(?<=[\\[,:]))[ \\t\\n\\r]*(?:NaN|-?Infinity)(?=[ \\t\\n\\r]*(?:[],}]|$))"
    ), text, perl = TRUE)
    found <- regmatches(text, tokens)[[1]]
    value <- !startsWith(found, '"')
    marked <- any(endsWith(found[value], "NaN"))
    replaced <- ifelse(endsWith(found, "NaN"), '"\\udfff"',
                       ifelse(endsWith(found, "-Infinity"), "-1e999", "1e999"))
    found[value] <- paste0(sub("[^ \t\n\r]*$", "", found[value]), replaced[value])
    regmatches(text, tokens) <- list(found)
  }
  content <- tryCatch(jsonlite::parse_json(text), error = function(e) {
    detail <- gsub("\\s+", " ", trimws(conditionMessage(e)))
    nn_input_error(NULL, paste0("is not valid JSON (", detail, ")"), category = "json")
  })
  if (marked && identical(content, mark)) {
    return(NaN)
  }
  if (marked) {
    content <- rapply(content, function(x) if (identical(x, mark)) NaN else x,
                      classes = "character", how = "replace")
  }
  if (is.list(content)) {
    # Without true or false in the text, nn_read_matrix need not look for booleans.
    attr(content, "booleans") <- grepl("[tf]", marks, perl = TRUE, useBytes = TRUE)
  }
  content
}

# Refuse \u0000 (R's strings end at a NUL: keys would merge) and a surrogate escape that
# is not half of a pair (no character: R and Python would read it apart).
nn_check_escapes <- function(text) {
  if (!grepl("\\\\u", text, perl = TRUE, useBytes = TRUE)) {
    return(invisible(NULL))
  }
  escapes <- gregexpr("(?s)\\\\(?:u[0-9a-fA-F]{4}|.)", text, perl = TRUE, useBytes = TRUE)[[1]]
  found <- regmatches(text, list(escapes))[[1]]
  starts <- as.vector(escapes)
  unit <- ifelse(nchar(found, type = "bytes") == 6,
                 strtoi(substring(found, 3), 16L), NA)
  high <- !is.na(unit) & unit >= 0xD800 & unit <= 0xDBFF
  low <- !is.na(unit) & unit >= 0xDC00 & unit <= 0xDFFF
  ends <- starts + nchar(found, type = "bytes")
  after <- c(starts[-1], NA)
  paired_high <- high & c(low[-1], FALSE) & !is.na(after) & after == ends
  paired_low <- low & c(FALSE, paired_high[-length(paired_high)])
  fault <- which((!is.na(unit) & unit == 0) | (high & !paired_high) | (low & !paired_low))
  if (length(fault) == 0) {
    return(invisible(NULL))
  }
  first <- fault[1]
  if (unit[first] == 0) {
    nn_input_error(NULL, sprintf(paste(
      "has \\u0000 at byte %d: a NUL character, which R's strings cannot hold;",
      "nnscratch refuses it in both languages"
    ), starts[first]), category = "json")
  }
  nn_input_error(NULL, sprintf(
    "has %s at byte %d: half of a UTF-16 surrogate pair, alone, which is no character",
    found[first], starts[first]
  ), category = "json")
}

# Refuse nesting deeper than nn_max_depth, counting the brackets (outside strings) in marks.
nn_check_depth <- function(marks) {
  brackets <- charToRaw(marks)
  opening <- brackets == charToRaw("[") | brackets == charToRaw("{")
  closing <- brackets == charToRaw("]") | brackets == charToRaw("}")
  depth <- max(0, cumsum(opening - closing))
  if (depth > nn_max_depth) {
    nn_input_error(NULL, sprintf("is nested %d levels deep, more than %d; a fixture needs 5",
                                 depth, nn_max_depth), category = "json")
  }
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
  booleans <- !isFALSE(attr(content, "booleans"))
  X <- nn_read_matrix(content$X, "X", booleans)
  y <- nn_read_matrix(content$y, "y", booleans)
  if (!is.list(content$layers) || !is.null(names(content$layers)) || length(content$layers) == 0) {
    nn_input_error("layers", "must be a non-empty array of layers", category = "structure")
  }
  layers <- Map(
    function(layer, number) nn_read_layer(layer, sprintf("layers[%d]", number)),
    content$layers, seq_along(content$layers)
  )
  nn_refuse_null(content)
  batch_size <- content[["batch_size"]]
  shuffle <- if (is.null(content[["shuffle"]])) FALSE else content[["shuffle"]]
  seed <- content[["seed"]]
  nn_check_training(layers, X, y, content$lr, content$epochs, batch_size, shuffle, seed)
  expected <- if ("expected" %in% names(content)) nn_read_expected(content$expected, y)
  structure(list(
    name = content$name, description = content$description, X = X, y = y,
    layers = layers, lr = as.numeric(content$lr), epochs = nn_count(content$epochs),
    batch_size = if (is.null(batch_size)) NULL else nn_count(batch_size),
    shuffle = shuffle, seed = if (is.null(seed)) NULL else as.numeric(seed),
    expected = expected
  ), class = "nn_fixture")
}

# A whole number as an integer where R's integers hold it, else as a double.
nn_count <- function(value) {
  if (value <= .Machine$integer.max) as.integer(value) else as.numeric(value)
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

# An optional setting given as null is refused by its own check: null is not absence
# (the schema allows no null there).
nn_refuse_null <- function(content) {
  checks <- list(
    batch_size = function(value) nn_check_whole(value, "batch_size", 1),
    shuffle = function(value) nn_check_boolean(value, "shuffle"),
    seed = nn_check_seed
  )
  for (key in names(checks)) {
    if (key %in% names(content) && is.null(content[[key]])) {
      checks[[key]](NULL)
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
#
# A quick look first (every row an array of as many numbers); only when it fails are the
# rows read number by number, to name the first fault, so that a large valid file costs
# little more than its parsing. booleans: FALSE when the text had no true or false, so
# that no entry can be one.
nn_read_matrix <- function(value, field, booleans = TRUE) {
  if (!is.list(value) || !is.null(names(value)) || length(value) == 0) {
    nn_input_error(
      field, "must be a non-empty array of rows (arrays of numbers)",
      category = "structure"
    )
  }
  widths <- lengths(value)
  entries <- unlist(value, recursive = FALSE)
  # The entries' values: atomic, numeric and as many as the entries unless some entry is
  # an array or an object, a string, or null; booleans (which unlist makes 1 and 0) are
  # looked for on their own.
  numbers <- unlist(entries, recursive = FALSE)
  # A row that is not an array has 1 entry: with 2 columns or more its width gives it away.
  quick <- widths[1] > 0 && all(widths == widths[1]) && is.null(names(entries)) &&
    (widths[1] > 1 || all(vapply(value, is.list, NA))) && is.numeric(numbers) &&
    length(numbers) == length(entries) &&
    (!booleans || is.null(rapply(entries, function(x) TRUE, classes = "logical", how = "unlist")))
  if (!quick) {
    for (number in seq_along(value)) {
      row <- nn_read_numbers(value[[number]], field, row = number)
      if (length(row) != length(value[[1]])) {
        nn_input_error(field, sprintf(
          "row %d has %d numbers, but row 1 has %d; every row must have the same length",
          number, length(row), length(value[[1]])
        ), category = "shape")
      }
    }
  }
  matrix <- matrix(as.numeric(numbers), nrow = length(value), byrow = TRUE)
  nn_check_finite_entries(matrix, field)
  matrix
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

# Name the first entry of a matrix that is not finite, row by row.
nn_check_finite_entries <- function(matrix, field) {
  fault <- which(!is.finite(t(matrix)))
  if (length(fault) > 0) {
    nn_input_error(field, sprintf(
      "row %d, column %d is not finite; NaN and Infinity are refused",
      (fault[1] - 1) %/% ncol(matrix) + 1, (fault[1] - 1) %% ncol(matrix) + 1
    ))
  }
}

#' A fixture in a few lines (print), or per column of its data (summary).
#'
#' Python's Fixture shows the same lines.
#' @param x,object an nn_fixture, as nn_load_fixture returns it.
#' @param ... unused.
#' @return format: the lines, as a character vector; print: x, invisibly; summary: a
#'   data.frame, one row per column of X and of y: its smallest, mean and largest value.
#' @export
format.nn_fixture <- function(x, ...) {
  f <- x
  batches <- "full batch"
  if (!is.null(f[["batch_size"]])) {
    batches <- sprintf("batches of %d", f$batch_size)
  }
  shuffled <- if (isTRUE(f[["shuffle"]])) sprintf(", shuffled (seed %d)", f$seed) else ""
  c(
    sprintf("Fixture %s: X %d x %d, y %d x %d", f$name, nrow(f$X), ncol(f$X), nrow(f$y), ncol(f$y)),
    sprintf("network %s; lr %g, epochs %d, %s%s", nn_describe_network(f$layers), f$lr, f$epochs,
            batches, shuffled),
    strsplit(f$description, "[.:] ")[[1]][1]
  )
}

#' @rdname format.nn_fixture
#' @export
print.nn_fixture <- function(x, ...) {
  cat(format(x), sep = "\n")
  invisible(x)
}

#' @rdname format.nn_fixture
#' @export
summary.nn_fixture <- function(object, ...) {
  data <- cbind(object$X, object$y)
  data.frame(
    column = c(sprintf("X[, %d]", seq_len(ncol(object$X))),
               sprintf("y[, %d]", seq_len(ncol(object$y)))),
    smallest = apply(data, 2, min), mean = colMeans(data), largest = apply(data, 2, max),
    row.names = NULL
  )
}

#' nn_train the fixture's network on its data, with all its settings.
#' @param fixture a fixture, as nn_load_fixture returns it.
#' @param trace,progress,... as in nn_train (trace_every, trace_quantities, trace_limit,
#'   trace_csv).
#' @return as nn_train.
#' @export
nn_train_fixture <- function(fixture, trace = FALSE, progress = NULL, ...) {
  f <- fixture
  nn_train(f$layers, f$X, f$y, f$lr, f$epochs, trace = trace, batch_size = f[["batch_size"]],
           shuffle = isTRUE(f[["shuffle"]]), seed = f[["seed"]], progress = progress, ...)
}

#' Write a fixture so that every double reads back exactly, in R and in Python.
#'
#' The fixture is checked first, and the text made of it is read back as
#' nn_load_fixture reads files: what could not be loaded is not saved, and on any error
#' nothing is written. The file is written through nn_open_atomically: a failed write
#' leaves the old file as it was.
#' @param fixture list(name, description, X, y, layers, lr, epochs).
#' @param path the file.
#' @export
nn_save_fixture <- function(fixture, path) {
  f <- fixture
  nn_check_training(f$layers, f$X, f$y, f$lr, f$epochs, f[["batch_size"]],
                    isTRUE(f[["shuffle"]]), f[["seed"]])
  layers <- paste(vapply(seq_along(f$layers), function(number) {
    layer <- f$layers[[number]]
    bias <- if (is.null(layer$bias)) "null" else nn_json_row(nn_format_numbers(layer$bias))
    activation <- nn_json_string(layer$activation, sprintf("layers[%d].activation", number))
    paste0(
      "    {\n",
      '      "weights": ', nn_json_matrix(layer$weights, "      "), ",\n",
      '      "bias": ', bias, ",\n",
      '      "activation": ', activation, "\n",
      "    }"
    )
  }, character(1)), collapse = ",\n")
  fields <- list(
    format = nn_json_string(nn_fixture_format, "format"),
    name = nn_json_string(f$name, "name"),
    description = nn_json_string(f$description, "description"),
    X = nn_json_matrix(f$X, "  "),
    y = nn_json_matrix(f$y, "  "),
    layers = paste0("[\n", layers, "\n  ]"),
    lr = nn_format_numbers(f$lr),
    epochs = sprintf("%.0f", f$epochs)
  )
  # The optional fields, only where they differ from their default.
  if (!is.null(f[["batch_size"]])) {
    fields$batch_size <- sprintf("%.0f", f[["batch_size"]])
  }
  if (isTRUE(f[["shuffle"]])) {
    fields$shuffle <- "true"
  }
  if (!is.null(f[["seed"]])) {
    fields$seed <- sprintf("%.0f", f[["seed"]])
  }
  if (!is.null(f[["expected"]])) {
    fields$expected <- nn_json_expected(f[["expected"]])
  }
  text <- paste0(
    "{\n", paste0('  "', names(fields), '": ', unlist(fields), collapse = ",\n"), "\n}\n"
  )
  nn_parse_fixture(charToRaw(enc2utf8(text)))
  nn_write_atomically(path, text)
}

nn_json_string <- function(text, field) {
  if (!nn_is_string(text)) {
    nn_input_error(field, paste("must be a string; got", nn_describe(text)),
                   category = "structure")
  }
  if (!validUTF8(enc2utf8(text))) {
    nn_input_error(field, "holds a lone surrogate, which is no character; UTF-8 cannot write it")
  }
  as.character(jsonlite::toJSON(enc2utf8(text), auto_unbox = TRUE))
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

# The expected field's text; its values are checked when the text is read back.
nn_json_expected <- function(expected) {
  if (!(is.list(expected) && setequal(names(expected), nn_expected_fields) &&
          length(expected) == length(nn_expected_fields))) {
    nn_input_error("expected", paste(
      "must be a dict of untrained_half_squared_error and decimals; got",
      nn_describe(expected)
    ), category = "structure")
  }
  errors <- expected$untrained_half_squared_error
  if (!(is.matrix(errors) && is.numeric(errors) && length(errors) > 0)) {
    nn_input_error("expected.untrained_half_squared_error",
                   "must be a matrix of numbers, of the shape of y", category = "structure")
  }
  nn_check_whole(expected$decimals, "expected.decimals", 0, 17)
  sprintf('{\n    "untrained_half_squared_error": %s,\n    "decimals": %d\n  }',
          nn_json_matrix(errors, "    "), as.integer(expected$decimals))
}

#' Write the long table of nn_trace_table as CSV, every value exact.
#'
#' The header is epoch,iteration,step,layer,quantity,row,col,value; values are written
#' as in fixtures, so they read back to the bit. The rows are written iteration by
#' iteration, as nn_train writes them with trace_csv; Python's write_trace_csv writes
#' the same header and rows for the same run.
#' @param trace a trace.
#' @param path the file.
#' @export
nn_write_trace_csv <- function(trace, path) {
  steps <- nn_trace_quantities(trace)
  csv <- NULL
  on.exit(if (!is.null(csv)) csv$abort())
  suspendInterrupts(csv <- nn_open_trace_csv(path, steps)) # Ctrl-C waits until on.exit can see it
  for (k in seq_along(trace$loss)) {
    csv$write(trace$epoch[k], trace$iteration[k], nn_stored_blocks(trace, steps, k))
  }
  csv$commit()
}

# ---- Plots -----------------------------------------------------------------------
# Pictures of training: the loss curve, and for two features the decision boundary,
# with the run's settings and accuracy in the title, with base graphics only.
# Python's plots module draws the same pictures.

# One colour per class, as in Python's CLASS_COLOURS.
nn_class_colours <- c("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd")

#' The share of samples whose class the network predicts, when y holds classes.
#'
#' @param layers the network.
#' @param X numeric matrix, samples x features.
#' @param y numeric matrix, samples x outputs: 0 or 1 in one column, or one-hot in several.
#' @return a number, or NULL when y holds anything but 0 and 1 (a regression).
#' @export
nn_accuracy <- function(layers, X, y) {
  if (!all(y %in% c(0, 1))) {
    return(NULL)
  }
  expected <- if (ncol(y) > 1) max.col(y, ties.method = "first") else y[, 1]
  mean(nn_predict_class(layers, X) == expected)
}

#' The settings of a run and how it ended: name, lr, epochs, batches, accuracy.
#' @param result what nn_train returned.
#' @param fixture the fixture it trained, with its settings.
#' @return a string.
#' @noRd
nn_plot_title <- function(result, fixture) {
  batches <- if (is.null(fixture[["batch_size"]])) "" else
    sprintf(", batches of %d", fixture$batch_size)
  score <- nn_accuracy(result$layers, fixture$X, fixture$y)
  ended <- if (is.null(score)) "" else sprintf(", accuracy %.4f", score)
  sprintf("%s: lr %g, %d epochs%s%s", fixture$name, fixture$lr, length(result$loss), batches,
          ended)
}

#' Draw the loss of every epoch, and beside it, for data of two features, the decision
#' boundary of the trained network with the samples: on the current device (RStudio's
#' Plots pane, which needs room for it: about 11 x 4.5 inches with a boundary), or into
#' a PNG file.
#'
#' The title gives the run's settings and its accuracy (for classes); the boundary has
#' a colour bar (one output) or a legend of the classes. The same run gives the same
#' bytes.
#' @param result what nn_train returned.
#' @param fixture the fixture whose data the network was trained on, with its settings.
#' @param path a PNG file to write, or NULL to draw on the current device.
#' @param log_scale draw the loss on a logarithmic axis, where its late drops show.
#' @param dpi pixels per inch of the PNG: the picture is 11 x 4.5 inches with a boundary,
#'   else 6 x 4.5.
#' @return path, invisibly.
#' @export
nn_plot_training <- function(result, fixture, path = NULL, log_scale = FALSE, dpi = 100) {
  nn_check_whole(dpi, "dpi", 1)
  two_features <- ncol(fixture$X) == 2
  if (is.null(path)) {
    old <- graphics::par(c("mfrow", "oma", "mar", "cex", "ps", "mex"))
    on.exit(graphics::par(old)) # mfrow first: it ends the layout
  } else {
    temporary <- tempfile(fileext = ".png")
    on.exit(unlink(temporary))
    grDevices::png(temporary, width = (if (two_features) 11 else 6) * dpi, height = 4.5 * dpi,
                   res = dpi, pointsize = 10, type = "cairo")
  }
  panels <- if (two_features && ncol(fixture$y) == 1) 3 else if (two_features) 2 else 1
  graphics::layout(matrix(seq_len(panels), 1), widths = c(5, 5, 0.8)[seq_len(panels)])
  # layout() shrinks text when it has 3 panels; 10 points, as the PNG has, on any device.
  graphics::par(oma = c(0, 0, 2, 0), cex = 1, ps = 10, mex = 10 / graphics::par("ps"))
  nn_draw_loss(result$loss, log_scale)
  if (two_features) {
    nn_draw_boundary(result$layers, fixture$X, fixture$y)
  }
  graphics::mtext(nn_plot_title(result, fixture), outer = TRUE, cex = 1.2)
  if (!is.null(path)) {
    # A device that cannot write its file (a full disk under tempdir()) prints "Write
    # Error" and goes on: its line goes nowhere, and a PNG that does not end with its
    # IEND chunk is refused in one line below, never put in place.
    quiet <- file(nullfile(), open = "wt")
    sink(quiet, type = "message")
    tryCatch(grDevices::dev.off(), finally = {
      sink(type = "message")
      close(quiet)
    })
    size <- file.size(temporary)
    picture <- if (is.na(size)) raw(0) else readBin(temporary, "raw", size)
    if (length(picture) < 20 || !identical(picture[length(picture) - 11:0], nn_png_end)) {
      nn_file_error(path, sprintf(
        "cannot be written (the picture could not be drawn in full in %s)", tempdir()
      ))
    }
    nn_write_atomically(path, picture)
  }
  invisible(path)
}

# The last 12 bytes of every PNG: its IEND chunk (length 0, type, CRC).
nn_png_end <- as.raw(c(0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82))

nn_draw_loss <- function(loss, log_scale) {
  # Limits given, so that a run of 0 epochs draws an empty panel.
  graphics::plot(seq_along(loss), loss, type = "l", log = if (log_scale) "y" else "",
                 xlim = c(1, max(1, length(loss))),
                 ylim = if (length(loss)) range(loss) else c(0.1, 1),
                 xlab = "epoch", main = "loss",
                 ylab = paste0("loss, mean of (y - output)^2 / 2", if (log_scale) ", log scale"))
}

# The boundary, and beside it a colour bar (one output) or in it a legend of the classes.
nn_draw_boundary <- function(layers, X, y) {
  margin <- 0.1 * (apply(X, 2, max) - apply(X, 2, min))
  margin[margin == 0] <- 0.5 # every sample at one point: a square around it
  grid_x <- seq(min(X[, 1]) - margin[1], max(X[, 1]) + margin[1], length.out = 200)
  grid_y <- seq(min(X[, 2]) - margin[2], max(X[, 2]) + margin[2], length.out = 200)
  grid <- as.matrix(expand.grid(grid_x, grid_y))
  classes <- if (ncol(y) > 1) max.col(y) - 1 else as.integer(y[, 1] >= 0.5)
  colours <- nn_class_colours[(seq_len(max(max(classes) + 1, 2)) - 1) %% 5 + 1]
  labels <- paste("class", seq_along(colours) - 1)
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
  one_output <- ncol(y) == 1
  graphics::legend("topright", legend = c(if (one_output) "output 0.5", labels),
                   lty = c(if (one_output) 1, rep(NA, length(labels))),
                   lwd = c(if (one_output) 2, rep(NA, length(labels))),
                   pch = c(if (one_output) NA, rep(21, length(labels))),
                   pt.bg = c(if (one_output) NA, colours), col = c(if (one_output) "black",
                   rep("white", length(labels))), bg = "white", cex = 0.9)
  if (one_output) {
    graphics::par(mar = c(5.1, 0.5, 4.1, 4))
    graphics::image(1, seq(0.05, 0.95, by = 0.1), matrix(seq(0.05, 0.95, by = 0.1), nrow = 1),
                    breaks = seq(0, 1, by = 0.1), col = shades, axes = FALSE, xlab = "", ylab = "")
    graphics::axis(4, at = seq(0, 1, by = 0.2), las = 1)
    graphics::mtext("network output", side = 4, line = 2.5)
    graphics::box()
  }
}

#' Plot a trained network, a fixture or a trace, on the current device.
#'
#' A trained network (nn_result): its loss, and with its fixture the rest of
#' nn_plot_training. A fixture: its samples, coloured by class where y holds classes
#' (two features: one against the other; more: every pair; one: y against it). A trace:
#' each number of one quantity, a line over the iterations.
#' @param x an nn_result, an nn_fixture or an nn_trace.
#' @param fixture for an nn_result: the fixture it was trained on, or NULL.
#' @param quantity for an nn_trace: "loss", or one of nn_layer_quantities it holds.
#' @param layer for an nn_trace: the layer of that quantity, from 1.
#' @param ... unused.
#' @return x, invisibly.
#' @export
plot.nn_result <- function(x, fixture = NULL, ...) {
  if (is.null(fixture)) {
    nn_draw_loss(x$loss, FALSE)
  } else {
    nn_plot_training(x, fixture)
  }
  invisible(x)
}

#' @rdname plot.nn_result
#' @export
plot.nn_fixture <- function(x, ...) {
  X <- x$X
  y <- x$y
  classes <- if (ncol(y) > 1) max.col(y, ties.method = "first") - 1 else as.integer(y[, 1] >= 0.5)
  colours <- if (all(y %in% c(0, 1))) nn_class_colours[classes %% 5 + 1] else "black"
  if (ncol(X) == 1) {
    graphics::plot(X[, 1], y[, 1], xlab = "feature 1", ylab = "y", main = x$name)
  } else if (ncol(X) == 2) {
    graphics::plot(X[, 1], X[, 2], col = colours, pch = 19, xlab = "feature 1",
                   ylab = "feature 2", main = x$name)
  } else {
    graphics::pairs(X, col = colours, pch = 19, main = x$name)
  }
  invisible(x)
}

#' @rdname plot.nn_result
#' @export
plot.nn_trace <- function(x, quantity = "loss", layer = length(x$layers), ...) {
  held <- nn_trace_quantities(x)
  if (!any(held$quantity == quantity & (quantity == "loss" | held$layer == layer))) {
    nn_input_error("quantity", sprintf("this trace holds no '%s' for layer %d", quantity, layer))
  }
  values <- matrix(nn_trace_block(x, layer, quantity), nrow = length(x$loss))
  title <- if (quantity == "loss") "loss" else sprintf("layer %d: %s", layer, quantity)
  graphics::matplot(seq_len(nrow(values)), values, type = "l", lty = 1, xlab = "iteration",
                    ylab = quantity, main = title)
  invisible(x)
}

# ---- Explain ---------------------------------------------------------------------
# The eleven steps of one iteration as a person reads them: each step, its formula
# in words with the names of nnscratch and of the article, and the matrices it makes,
# as text. Python's explain writes the same text (and its spreadsheet module a
# spreadsheet that computes the steps, like the article's).

# How the text writes products: the matrix product and the product element by element.
nn_notation <- "@ is the matrix product, * multiplies element by element, ^T transposes."

# The article's name of each quantity: c(in a hidden layer, in the output layer).
nn_article_names <- list(
  layer_input = c("hidden_layer_input", "output_layer_input"),
  activation = c("hiddenlayer_activations", "output"),
  error = c(NA, "E"),
  slope = c("slope_hidden_layer", "slope_output_layer"),
  delta = c("d_hiddenlayer", "d_output"),
  error_at_layer = c("Error_at_hidden_layer", NA),
  weights = c("wh", "wout"),
  bias = c("bh", "bout")
)

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
#' @export
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
    0, sprintf(
      "Take the batch: rows %s of X, and their targets y (samples; the article's X and y).",
      paste(batch$rows, collapse = ", ")
    ),
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
  parameters <- nn_parameter_names(layers)
  steps <- c(steps, list(step(1, sprintf(
    "The %s %s (%s).", parameters[1],
    if (first) "drawn at the start" else "as the previous iteration left them", parameters[2]
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
#' @export
nn_explain <- function(fixture, epoch = 1, iteration = 1, digits = 3, X = NULL, y = NULL,
                       lr = NULL) {
  nn_check_whole(digits, "digits", 0, 15)
  explained <- nn_explain_steps(fixture, epoch, iteration, X, y, lr)
  lines <- c(sprintf("%s; numbers rounded to %d decimals.", explained$title, digits), nn_notation)
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

# The step's formula in words, with the quantity's name and the article's.
nn_explain_sentence <- function(quantity, l, n_layers, layer, lr) {
  which <- if (l == n_layers) "The output layer" else sprintf("Hidden layer %d", l)
  bias <- if (is.null(layer$bias)) "" else sprintf(" + b%d", l)
  formula <- switch(quantity,
    layer_input = sprintf("%s's input: Z%d = A%d @ W%d%s", which, l, l - 1, l, bias),
    activation = sprintf(
      "%s's activation: A%d = %s(Z%d)%s", which, l, layer$activation, l,
      if (l == n_layers) ", the output" else ""
    ),
    error = sprintf("The error at the output: E = y - A%d", l),
    slope = sprintf(
      "%s's slope, from its output: S%d = %s", which, l,
      gsub("A", paste0("A", l), nn_activations[[layer$activation]]$slope_formula, fixed = TRUE)
    ),
    delta = sprintf(
      "%s's delta: D%d = %s", which, l,
      if (l == n_layers) sprintf("E * S%d", l) else sprintf("H%d * S%d", l, l)
    ),
    error_at_layer = sprintf(
      "The error at hidden layer %d: H%d = D%d @ W%d^T, with the weights from before this update",
      l, l, l + 1, l + 1
    ),
    weights = sprintf(
      "%s's weights move by lr times the gradient summed over the batch: %s",
      which, sprintf("W%d = W%d + %g * A%d^T @ D%d", l, l, lr, l - 1, l)
    ),
    bias = sprintf(
      "%s's bias moves by lr times its delta summed over the batch: b%d = b%d + %g * colsum(D%d)",
      which, l, l, lr, l
    )
  )
  article <- nn_article_names[[quantity]][(l == n_layers) + 1]
  names <- sprintf("%s; the article's %s", quantity, article)
  loss <- if (quantity == "error") ", and the loss = mean(E * E) / 2" else ""
  sprintf("%s (%s)%s.", formula, names, loss)
}

# Step 1's words: what it shows, and the names of nnscratch and of the article.
nn_parameter_names <- function(layers) {
  bias <- any(!vapply(layers, function(layer) is.null(layer$bias), NA))
  ours <- if (bias) "weights and bias" else "weights"
  output <- c(if (length(layers) > 1) FALSE, TRUE)
  place <- ifelse(output, "for the output layer", "for a hidden layer")
  theirs <- paste0(
    vapply(output, function(o) nn_article_names$weights[o + 1], ""),
    if (bias) paste0(" and ", vapply(output, function(o) nn_article_names$bias[o + 1], "")) else "",
    " ", place,
    collapse = ", "
  )
  c(if (bias) "weights and biases" else "weights", sprintf("%s; the article's %s", ours, theirs))
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

# ---- Page ------------------------------------------------------------------------
# A walkthrough page: one self-contained HTML file to click through training a
# fixture. It is the template python/nnscratch/data/page.html, which Python's
# explain_html fills the same way, with the run in it as JSON: for each iteration it
# keeps, the steps of nn_explain_steps and, for data of two features, the network's
# output on a grid; for every epoch, the loss.

# The template, shipped as page.html (in the R package, and in the Python wheel's
# nnscratch/data) or, in a checkout, as python/nnscratch/data/page.html; "" if neither.
nn_page_template <- function() {
  places <- c(nn_shipped("page.html"), nn_shipped("python", "nnscratch", "data", "page.html"))
  found <- places[file.exists(places)]
  if (length(found) > 0) normalizePath(found[1]) else ""
}

# Where the template takes the run's data.
nn_page_mark <- "__NNSCRATCH_DATA__"

# The boundary is drawn from the network's output at nn_page_grid x nn_page_grid points.
nn_page_grid <- 50L

#' The iterations a page keeps of a run of `total` iterations (updates).
#'
#' Every iteration up to 10, then 20, 50, 100, 200, 500, 1000, 2000, 5000, ... below
#' total, and the last: 18 of the article's 5000.
#' @param total the run's iterations.
#' @return integer vector, from 1.
#' @noRd
nn_page_iterations <- function(total) {
  kept <- seq_len(min(total, 10))
  scale <- 10
  while (length(kept) > 0 && kept[length(kept)] < total) {
    for (factor in c(2, 5, 10)) {
      kept <- c(kept, min(factor * scale, total))
      if (kept[length(kept)] == total) break
    }
    scale <- scale * 10
  }
  as.integer(kept)
}

#' What the page shows of a fixture's run, as values nn_page_json writes.
#'
#' @param fixture a fixture, as nn_load_fixture returns it.
#' @param epoch,iteration the iteration the page opens at (it keeps that one too).
#' @param iterations the iterations to keep, counted from 1 over the whole run (an
#'   iteration is one update); NULL: nn_page_iterations.
#' @return a named list.
#' @noRd
nn_page_data <- function(fixture, epoch = 1, iteration = 1, iterations = NULL) {
  f <- fixture
  n_samples <- nrow(f$X)
  batch_size <- if (is.null(f[["batch_size"]])) n_samples else min(f[["batch_size"]], n_samples)
  batches <- as.integer(ceiling(n_samples / batch_size))
  total <- f$epochs * batches
  nn_check_whole(epoch, "epoch", 1, f$epochs)
  nn_check_whole(iteration, "iteration", 1, batches)
  opened <- as.integer((epoch - 1) * batches + iteration)
  if (is.null(iterations)) {
    iterations <- nn_page_iterations(total)
  }
  for (number in iterations) {
    nn_check_whole(number, "iterations", 1, total)
  }
  kept <- sort(unique(as.integer(c(iterations, opened))))
  two_features <- ncol(f$X) == 2
  grid <- if (two_features) nn_page_corners(f$X)
  shown <- lapply(kept, function(number) {
    e <- (number - 1L) %/% batches + 1L
    i <- (number - 1L) %% batches + 1L
    explained <- nn_explain_steps(f, e, i)
    list(
      iteration = number, epoch = e, batch = i, title = explained$title,
      steps = lapply(explained$steps, function(step) {
        list(step = as.integer(step$step), sentence = step$sentence,
             matrices = unname(Map(function(name, values) list(name = name, values = values),
                                   names(step$matrices), step$matrices)))
      }),
      boundary = if (two_features) nn_page_boundary(f, explained$steps, grid)
    )
  })
  list(
    format = "nnscratch-page/1", name = f$name, description = f$description,
    samples = n_samples, features = ncol(f$X),
    network = lapply(f$layers, function(layer) {
      list(inputs = nrow(layer$weights), units = ncol(layer$weights),
           activation = layer$activation, bias = !is.null(layer$bias))
    }),
    lr = f$lr, epochs = as.integer(f$epochs), batches = batches, opened = opened,
    loss = I(nn_train_fixture(f)$loss), iterations = shown,
    points = if (two_features) {
      list(X = f$X, class = I(nn_page_classes(f$y)), low = I(grid$low), high = I(grid$high))
    }
  )
}

#' Write the walkthrough page of a fixture's run: one self-contained HTML file.
#'
#' It shows the network with its weights, each step of the iterations it keeps as
#' matrices with their formulas and names, the loss of every epoch and, for data of
#' two features, the decision boundary; buttons and keys move through steps and
#' iterations, and page.html#iteration=3&step=7 opens it at one step. Python's
#' explain_html writes the same page.
#' @param fixture a fixture, as nn_load_fixture returns it.
#' @param path the file.
#' @param epoch,iteration the iteration the page opens at (it keeps that one too).
#' @param iterations the iterations to keep, counted from 1 over the whole run (an
#'   iteration is one update); NULL: every one up to 10, then 20, 50, 100, 200, 500,
#'   ... and the last.
#' @export
nn_explain_html <- function(fixture, path, epoch = 1, iteration = 1, iterations = NULL) {
  template_file <- nn_page_template()
  if (!nzchar(template_file)) {
    stop("the page's template python/nnscratch/data/page.html was not found: source() ",
         "r/nnscratch.R from a checkout of nnscratch", call. = FALSE)
  }
  data <- nn_page_data(fixture, epoch, iteration, iterations)
  template <- readChar(template_file, file.size(template_file), useBytes = TRUE)
  Encoding(template) <- "UTF-8"
  json <- gsub("</", "<\\/", nn_page_json(data), fixed = TRUE)
  nn_write_atomically(path, sub(nn_page_mark, json, template, fixed = TRUE))
}

# The grid's low and high corners: the data's range and a tenth more on each side.
nn_page_corners <- function(X) {
  low <- apply(X, 2, min)
  high <- apply(X, 2, max)
  margin <- 0.1 * (high - low)
  list(low = unname(low - margin), high = unname(high + margin))
}

# The output, in thousandths (one output), or the class (several), at each point of
# the grid, row by row from the lowest feature 2, for the weights of step 1.
nn_page_boundary <- function(fixture, steps, grid) {
  start <- steps[[2]]$matrices
  layers <- lapply(seq_along(fixture$layers), function(l) {
    bias <- start[[paste0("b", l)]]
    list(weights = start[[paste0("W", l)]], bias = if (!is.null(bias)) bias[1, ],
         activation = fixture$layers[[l]]$activation)
  })
  n <- nn_page_grid
  points <- as.matrix(expand.grid(seq(grid$low[1], grid$high[1], length.out = n),
                                  seq(grid$low[2], grid$high[2], length.out = n)))
  values <- if (ncol(fixture$y) == 1) {
    round(1000 * nn_predict(layers, points)[, 1])
  } else {
    nn_predict_class(layers, points) - 1
  }
  matrix(as.integer(values), nrow = n, byrow = TRUE)
}

nn_page_classes <- function(y) {
  if (ncol(y) > 1) max.col(y, ties.method = "first") - 1L else as.integer(y[, 1] >= 0.5)
}

# JSON text of lists, strings, numbers and matrices; doubles as in fixtures (the
# shortest of 15, 16, 17 digits that reads back), so Python writes the same text.
# A named list is an object, an unnamed one an array; a vector is an array when it
# is wrapped in I() or its length is not 1.
nn_page_json <- function(value) {
  if (is.null(value)) {
    return("null")
  }
  if (is.list(value) && !inherits(value, "AsIs")) {
    parts <- vapply(value, nn_page_json, "")
    if (is.null(names(value))) {
      return(paste0("[", paste(parts, collapse = ","), "]"))
    }
    keys <- vapply(names(value), nn_json_string, "")
    return(paste0("{", paste0(keys, ":", parts, collapse = ","), "}"))
  }
  if (is.character(value)) {
    return(nn_json_string(value))
  }
  if (is.logical(value)) {
    return(if (value) "true" else "false")
  }
  text <- if (is.integer(value)) as.character(value) else nn_format_numbers(as.vector(value))
  if (is.matrix(value)) {
    text <- matrix(text, nrow = nrow(value))
    return(paste0("[", paste(apply(text, 1, nn_json_row), collapse = ", "), "]"))
  }
  if (length(value) == 1 && !inherits(value, "AsIs")) text else nn_json_row(text)
}

# ---- Check (the grader) ----------------------------------------------------------
# A learner who wrote the article's network from scratch hands in the numbers of their
# run: a long-table CSV (nn_check_trace), written by code in any language, or a function
# that performs one iteration (nn_check_step). nnscratch runs the same fixture from the
# same initial network, compares every number the learner recorded (and only those) with
# the harness's tolerance, and answers: agree, or the first divergence in the order of
# the run, what agreed before it, and the known mistake of nn_mistakes whose numbers the
# learner's match. Python's check_trace and check_step give the same answers in the same
# words. Quantities are keyed "layer:quantity" ("1:delta").

# The article's variable names, as the grader reads them: nnscratch's quantity, and whether
# it is a hidden layer's or the output layer's. From explain's nn_article_names, and the
# name the article's R listing gives the hidden activations.
nn_article_quantities <- local({
  rows <- lapply(names(nn_article_names), function(quantity) {
    names <- nn_article_names[[quantity]]
    kept <- !is.na(names)
    data.frame(name = names[kept], quantity = rep(quantity, sum(kept)),
               role = c("hidden", "output")[kept], stringsAsFactors = FALSE)
  })
  rbind(do.call(rbind, rows), data.frame(name = "hidden_layer_activations",
                                         quantity = "activation", role = "hidden"))
})

# nnscratch's names; samples belong to layer 0, the error and the loss to the output layer.
nn_nnscratch_names <- c("samples", "loss", nn_layer_quantities)

#' The catalogue of known mistakes, in the order an answer tries them: id, what, fix.
#'
#' Python's MISTAKES has the same ids and words. nn_mistaken_step makes each mistake as
#' a learner's loop makes it.
#' @export
nn_mistakes <- data.frame(
  id = c("bias-per-sample", "bias-by-column", "lr-twice", "hidden-bias-output-delta",
         "slope-from-input", "sign-flipped", "update-before-backprop", "mean-not-sum",
         "no-lr-on-bias", "missing-bias-update"),
  what = c(
    paste("the bias moved by the row sums of the delta, one sum per sample, as the article's",
          "R listing does (rowSums)"),
    paste("the bias matrix filled by column, as the article's R listing does (byrow = FALSE):",
          "sample i gets the bias of unit i for every unit"),
    paste("the learning rate applied twice, in d_output (step 7, as the article's walkthrough",
          "does) and again in the updates (steps 10 and 11)"),
    "the hidden bias moved by the output layer's delta, as the article's step-11 bullet says",
    "the slope computed from the layer's input (Z) instead of from its activation",
    paste("the error taken as output - y while the updates still add, so that every step",
          "climbs the loss"),
    "a layer's weights updated before the error was sent back through them",
    "the gradient averaged over the samples instead of summed",
    "the bias moved without the learning rate",
    "the bias never moved"
  ),
  fix = c(
    paste("move each unit's bias by lr times its delta summed over the samples:",
          "colSums(d_hiddenlayer) in R, np.sum(d_hiddenlayer, axis=0) in numpy"),
    paste("repeat the biases by row, so that every sample gets every unit's own bias:",
          "matrix(rep(bh, n), nrow = n, byrow = TRUE) in R; numpy adds a 1 x units bias to",
          "every row by itself"),
    paste("leave lr out of the delta, d_output = E * slope_output_layer, and apply it once,",
          "in the updates"),
    paste("move each layer's bias by its own delta: bh + lr * (d_hiddenlayer summed over the",
          "samples)"),
    paste("apply the derivative, written from the output, to the activation:",
          "slope_hidden_layer = derivatives_sigmoid(hiddenlayer_activations)"),
    "take E = y - output, as the article does, and keep the updates' +",
    paste("compute Error_at_hidden_layer (step 8) with the weights from before the update,",
          "and update the weights after the backward pass"),
    paste("sum over the samples, as the article does: no division by the number of samples",
          "in the updates of the weights and the biases"),
    paste("multiply the bias update by lr, as the weights': bh + lr * (d_hiddenlayer summed",
          "over the samples)"),
    paste("update every bias in step 11: bh + lr * (d_hiddenlayer summed over the samples),",
          "bout alike")
  ),
  stringsAsFactors = FALSE
)

#' Check a learner's long table of numbers against nnscratch's run of a fixture.
#'
#' @param fixture the fixture (as nn_load_fixture returns it), or its file, that the
#'   learner ran from its initial network.
#' @param trace the learner's long table, a CSV file or a data.frame with the columns
#'   epoch, iteration, quantity, row, col, value, and step and layer if they like (the
#'   layer may be left out where the name implies it). Quantities are named as nnscratch
#'   names them (nn_nnscratch_names) or as the article does (nn_article_quantities); only
#'   those recorded are checked, in the iterations recorded. Indices count from 1. A bias
#'   has one row, or one per sample.
#' @param max_bytes a larger CSV is refused before it is read.
#' @return an answer, a list of class nn_answer (print it): fixture, source, recorded
#'   (data.frame name, layer, quantity, step), notes, epochs, numbers, tolerance,
#'   divergence (NULL, or list(epoch, iteration, step, layer, quantity, name, row, col,
#'   expected, got)), agreed, iterations_before, diagnosis (ids of nn_mistakes), ok.
#' @section Errors: nnscratch_fixture_error for a CSV (or table) that cannot be read as a
#'   long table: one line naming the file, and the line (the table's row) and column.
#' @export
nn_check_trace <- function(fixture, trace, max_bytes = 1e8) {
  fixture <- nn_as_fixture(fixture)
  if (is.data.frame(trace)) {
    source <- "your table"
    where <- "row"
    header <- names(trace)
    cells <- lapply(trace, function(column) if (is.factor(column)) as.character(column) else column)
    lines <- seq_len(nrow(trace))
  } else {
    source <- trace
    where <- "line"
    read <- nn_read_csv(source, max_bytes)
    header <- read$header
    cells <- read$cells
    lines <- read$lines
  }
  table <- nn_read_table(fixture, header, cells, lines, source, where)
  record <- nn_record_table(fixture, table, source)
  learner <- function(first, last) {
    lapply(record, nn_within, first = first, last = last, fixture = fixture)
  }
  nn_grade(fixture, learner, c(min(table$epoch), max(table$epoch)), table$names, source)
}

#' Check a learner's one-iteration function against nnscratch's run of a fixture.
#'
#' nnscratch drives one_iteration from the fixture's initial network, batch by batch as
#' nn_train takes them, and gives it, by name, what it asks for: X and y (the batch's
#' rows), lr (or learning_rate), and the network, either as the article names it, wh, bh,
#' wout, bout (one hidden layer; a bias as a 1 x units matrix), or as nnscratch does,
#' layers (a list of layers). It returns a named list of what it computed, by
#' nnscratch's names or the article's, with the updated network under the names it took
#' (wh, bh, wout, bout, or layers), which the next call is given as it was returned.
#' function(layers, X, y, lr) nn_step(layers, X, y, lr) agrees.
#' @inheritParams nn_check_trace
#' @param one_iteration a function.
#' @param epochs how many epochs to drive it; NULL: the fixture's. It is driven and checked
#'   in windows of epochs (1, 2 to 10, 11 to 100, ...), and stops at the end of the window in
#'   which the first divergence is found.
#' @return an answer, as nn_check_trace's.
#' @section Errors: nnscratch_input_error when the function asks for what nnscratch
#'   cannot give, or returns something other than a named list of known names and shapes.
#' @export
nn_check_step <- function(fixture, one_iteration, epochs = NULL) {
  fixture <- nn_as_fixture(fixture)
  if (is.null(epochs)) epochs <- fixture$epochs
  nn_check_whole(epochs, "epochs", 1)
  wanted <- nn_arguments(fixture, one_iteration)
  article <- !("layers" %in% wanted)
  run <- new.env()
  run$params <- nn_first_params(fixture, article)
  run$state <- fixture[["seed"]]
  seen <- new.env()
  seen$names <- character()
  iterate <- function(params, X, y, lr) {
    given <- c(list(X = X, y = y, lr = lr, learning_rate = lr), params)
    result <- do.call(one_iteration, given[wanted])
    nn_read_result(fixture, result, article, nrow(X), seen)
  }
  learner <- function(first, last) {
    found <- list()
    for (epoch in first:last) {
      ran <- nn_run_epoch(fixture, run$params, run$state, iterate, epoch)
      run$params <- ran$params
      run$state <- ran$state
      for (g in names(ran$found)) {
        for (key in names(ran$found[[g]])) found[[key]][[g]] <- ran$found[[g]][[key]]
      }
    }
    lapply(found[names(found) != "0:samples"], nn_stack)
  }
  nn_grade(fixture, learner, c(1, epochs), function() seen$names, "your function")
}

# ---- Check: reading a learner's long table

# The columns a learner's table must have; step and layer it may leave out.
nn_required_columns <- c("epoch", "iteration", "quantity", "row", "col", "value")
# A number as both languages read it: decimal, maybe with an exponent.
nn_decimal <- "^[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?$"
# Values that are numbers but not finite: they never agree.
nn_not_finite <- c(nan = NaN, na = NaN, inf = Inf, "+inf" = Inf, "-inf" = -Inf,
                   infinity = Inf, "+infinity" = Inf, "-infinity" = -Inf)

nn_as_fixture <- function(fixture) {
  if (is.character(fixture)) nn_load_fixture(fixture) else fixture
}

#' The header, the columns as text, and the line of each row of a CSV file.
#'
#' Fields are separated by commas; a field in double quotes loses them; blank lines and
#' a byte-order mark are skipped, a carriage return before a newline too.
#' @noRd
nn_read_csv <- function(path, max_bytes) {
  bytes <- nn_read_file(path, max_bytes)
  if (any(bytes == 0)) {
    nn_input_error(NULL, "is not text: it holds a NUL byte", path, category = "file")
  }
  if (length(bytes) >= 3 && identical(bytes[1:3], as.raw(c(0xef, 0xbb, 0xbf)))) {
    bytes <- bytes[-(1:3)]
  }
  text <- rawToChar(bytes)
  Encoding(text) <- "UTF-8"
  if (!validUTF8(text)) {
    nn_input_error(NULL, "is not UTF-8 text", path, category = "file")
  }
  lines <- strsplit(text, "\n", fixed = TRUE)[[1]]
  if (any(endsWith(lines, "\r"))) lines <- sub("\r$", "", lines)
  kept <- which(grepl("[^ \t]", lines))
  if (length(kept) == 0) {
    nn_input_error(NULL, "is empty; a long table has a header and rows", path,
                   category = "structure")
  }
  header <- nn_unquote(nn_split_fields(lines[kept[1]]))
  body <- lines[kept[-1]]
  numbers <- kept[-1]
  fields <- if (length(body) > 0) {
    utils::count.fields(textConnection(body), sep = ",", quote = "", comment.char = "",
                        blank.lines.skip = FALSE)
  } else {
    integer()
  }
  if (any(fields != length(header))) {
    i <- which(fields != length(header))[1]
    nn_input_error(sprintf("line %d", numbers[i]),
                   sprintf("has %d fields, but the header has %d", fields[i], length(header)),
                   path, category = "structure")
  }
  flat <- nn_split_fields(body)
  cells <- lapply(seq_along(header), function(j) {
    column <- flat[seq(j, by = length(header), length.out = length(body))]
    if (any(grepl('"|^[ \t]|[ \t]$', column))) nn_unquote(column) else column
  })
  list(header = header, cells = cells, lines = numbers)
}

# Lines split at their commas, every field kept as it is, one after the other.
nn_split_fields <- function(lines) {
  scan(text = lines, what = "", sep = ",", quote = "", na.strings = character(), quiet = TRUE,
       strip.white = FALSE, blank.lines.skip = FALSE, comment.char = "")
}

# Fields without the spaces and tabs around them, and without their double quotes.
nn_unquote <- function(text) {
  text <- trimws(text, whitespace = "[ \t]")
  quoted <- nchar(text) >= 2 & startsWith(text, '"') & endsWith(text, '"')
  text[quoted] <- trimws(substr(text[quoted], 2, nchar(text[quoted]) - 1), whitespace = "[ \t]")
  text
}

#' Cells as numbers, and which cells are not numbers.
#'
#' Empty cells (and NA) are NA where empty_allowed; NaN, NA and Inf (in any case) are
#' numbers where not_finite_allowed. A table's numeric column is taken as it is, NA as
#' empty.
#' @noRd
nn_cell_numbers <- function(cells, empty_allowed, not_finite_allowed) {
  if (is.numeric(cells) || (is.logical(cells) && all(is.na(cells)))) {
    numbers <- as.numeric(cells)
    fine <- is.finite(numbers) | (is.na(numbers) & empty_allowed) | not_finite_allowed
    return(list(numbers = numbers, bad = !fine))
  }
  text <- as.character(cells)
  text[is.na(text)] <- "NA"
  # Made of what decimals are made of, and no exponent left without digits (which
  # as.numeric reads: "1e+" is 1): the quick way.
  if (!any(grepl("[^0-9eE+.-]|[eE][+-]?$", text))) {
    numbers <- suppressWarnings(as.numeric(text))
    if (!anyNA(numbers)) return(list(numbers = numbers, bad = logical(length(text))))
  }
  decimal <- grepl(nn_decimal, text)
  lower <- tolower(text)
  empty <- text == "" | (lower == "na" & empty_allowed)
  special <- !decimal & !empty & lower %in% names(nn_not_finite)
  numbers <- rep(NA_real_, length(text))
  numbers[decimal] <- as.numeric(text[decimal])
  numbers[special] <- nn_not_finite[lower[special]]
  fine <- decimal | (empty & empty_allowed) | (special & not_finite_allowed)
  list(numbers = numbers, bad = !fine)
}

# The first problem of list(row, position, column, problem): by row, then position.
nn_first_problem <- function(problems) {
  rows <- vapply(problems, function(p) p$row, 1)
  positions <- vapply(problems, function(p) p$position, 1)
  problems[[order(rows, positions)[1]]]
}

#' Check a learner's long table, and resolve each row's layer, quantity and iteration.
#'
#' @return list of vectors, one entry per row: epoch, iteration, g (the iteration's number
#'   in the run, from 1), layer, quantity (nnscratch's), key (the position of (layer,
#'   quantity) in the order of the run, from 1), row, col, value, rows (the rows the
#'   quantity has in that iteration; a bias's may be 1 too), cols; and names: the learner's
#'   name of each "layer:quantity".
#' @noRd
nn_read_table <- function(fixture, header, cells, lines, source, where) {
  fail <- function(location, problem, category = "value") {
    nn_input_error(location, problem, source, category = category)
  }
  head <- if (where == "line") "line 1" else "the header"
  columns <- paste(nn_table_columns, collapse = ", ")
  for (position in seq_along(header)) {
    name <- header[position]
    if (!(name %in% nn_table_columns)) {
      fail(sprintf("%s, column %d", head, position),
           sprintf("'%s' is not a column of the long table; its columns are %s %s", name,
                   columns, "(step and layer may be left out)"), "structure")
    }
    if (match(name, header) < position) {
      fail(sprintf("%s, column %d", head, position), sprintf("'%s' appears more than once", name),
           "structure")
    }
  }
  for (name in nn_required_columns) {
    if (!(name %in% header)) {
      fail(head, sprintf("has no column '%s'; the long table's columns are %s %s", name, columns,
                         "(step and layer may be left out)"), "structure")
    }
  }
  if (length(lines) == 0) fail(NULL, "has no rows after its header", "structure")

  # Each cell on its own: the first bad one, by row and then by column, is reported.
  given <- stats::setNames(cells, header)
  parsed <- list()
  problems <- list()
  known <- c(nn_nnscratch_names, nn_article_quantities$name)
  for (position in seq_along(header)) {
    name <- header[position]
    if (name == "quantity") {
      text <- as.character(given[[name]])
      text[is.na(text)] <- "NA"
      parsed[[name]] <- text
      bad <- !(text %in% known)
      problem <- sprintf(
        "is not a quantity nnscratch knows; nnscratch's are %s; the article's are %s",
        paste(nn_nnscratch_names, collapse = ", "),
        paste(nn_article_quantities$name, collapse = ", ")
      )
    } else if (name == "value") {
      read <- nn_cell_numbers(given[[name]], FALSE, TRUE)
      parsed[[name]] <- read$numbers
      bad <- read$bad
      problem <- "is not a number"
    } else {
      optional <- name %in% c("step", "layer")
      read <- nn_cell_numbers(given[[name]], optional, FALSE)
      numbers <- read$numbers
      low <- if (name == "step" || name == "layer") 0 else 1
      high <- if (name == "step") 11 else Inf
      whole <- !is.na(numbers) & numbers == floor(numbers) & numbers >= low & numbers <= high
      bad <- read$bad | !(whole | (is.na(numbers) & optional))
      parsed[[name]] <- numbers
      limits <- if (is.finite(high)) sprintf("from %d to %d", low, high) else paste(low, "or more")
      problem <- paste0("must be a whole number, ", limits, if (optional) ", or empty" else "")
    }
    if (any(bad)) {
      row <- which(bad)[1]
      problems <- c(problems, list(list(row = row, position = position, column = name,
                                        problem = sprintf("'%s' %s", given[[name]][row], problem))))
    }
  }
  if (length(problems) > 0) {
    first <- nn_first_problem(problems)
    fail(sprintf("%s %d, column %s", where, lines[first$row], first$column), first$problem)
  }

  # Each row against the fixture: its iteration, layer, step, row and column.
  n_layers <- length(fixture$layers)
  batching <- nn_batching(fixture)
  epoch <- parsed$epoch
  iteration <- parsed$iteration
  names <- parsed$quantity
  uniques <- unique(names)
  codes <- match(names, uniques)
  per_name <- lapply(uniques, nn_name_layers, fixture = fixture)
  quantity <- vapply(per_name, `[[`, "", "quantity")[codes]
  implied <- vapply(per_name, `[[`, 1, "implied")[codes]
  top <- vapply(per_name, `[[`, 1, "top")[codes]
  given_layer <- if (is.null(parsed$layer)) rep(NA_real_, length(lines)) else parsed$layer
  free_layer <- given_layer
  free_layer[is.na(free_layer)] <- 0
  layer <- as.integer(ifelse(implied >= 0, implied, pmin(pmax(free_layer, 0), n_layers)))
  has_bias <- c(TRUE, vapply(fixture$layers, function(l) !is.null(l$bias), TRUE))
  run_order <- nn_trace_steps(n_layers)
  run_keys <- paste(run_order$layer, run_order$quantity, sep = ":")
  samples <- ifelse(pmin(iteration, batching$per_epoch) == batching$per_epoch,
                    batching$last_size, batching$size)
  shapes <- nn_shapes(fixture, layer, quantity, samples)
  problems <- list()
  order <- c("quantity", "epoch", "iteration", "layer", "step", "row", "col", "value")
  check <- function(bad, column, problem) {
    bad[is.na(bad)] <- FALSE
    if (any(bad)) {
      row <- which(bad)[1]
      problems[[length(problems) + 1]] <<- list(row = row, position = match(column, order),
                                                column = column, problem = problem(row))
    }
  }
  cell <- function(column, row) sprintf("'%s'", given[[column]][row])
  check(top < 1 & quantity != "samples", "quantity", function(r) {
    sprintf("%s belongs to a hidden layer, and %s has none", cell("quantity", r), fixture$name)
  })
  check(epoch > fixture$epochs, "epoch", function(r) {
    sprintf("%s is past the fixture's last epoch, %d", cell("epoch", r), fixture$epochs)
  })
  check(iteration > batching$per_epoch, "iteration", function(r) {
    sprintf("%s is past the last iteration of an epoch, %d", cell("iteration", r),
            batching$per_epoch)
  })
  free <- implied < 0
  check(!free & !is.na(given_layer) & given_layer != implied, "layer", function(r) {
    sprintf("%s is not the layer of %s, which is %d", cell("layer", r), names[r], implied[r])
  })
  no_column <- if (is.null(parsed$layer)) " (the table has no column layer)" else ""
  check(free & top >= 1 & is.na(given_layer), "layer", function(r) {
    sprintf("%s needs its layer, from 1 to %d%s", names[r], top[r], no_column)
  })
  check(free & top >= 1 & !is.na(given_layer) & (given_layer < 1 | given_layer > top), "layer",
        function(r) {
          sprintf("%s is out of range; %s is in layers 1 to %d", cell("layer", r), names[r], top[r])
        })
  fits <- layer >= 0 & layer <= pmax(top, 0)
  check(fits & quantity == "bias" & !has_bias[layer + 1], "layer", function(r) {
    sprintf("layer %d has no bias in %s", layer[r], fixture$name)
  })
  key <- match(paste(layer, quantity, sep = ":"), run_keys)
  key[is.na(key)] <- 1
  if (!is.null(parsed$step)) {
    expected_step <- run_order$step[key]
    check(fits & !is.na(parsed$step) & parsed$step != expected_step, "step", function(r) {
      sprintf("%s is not the step of %s (layer %d), which is %d", cell("step", r), names[r],
              layer[r], expected_step[r])
    })
  }
  # Rows and columns only where the iteration is one of the fixture's.
  known_iteration <- epoch <= fixture$epochs & iteration <= batching$per_epoch
  check(known_iteration & parsed$row > shapes$rows, "row", function(r) {
    sprintf("%s is past the last row of %s (layer %d) in epoch %d, iteration %d, %d",
            cell("row", r), names[r], layer[r], epoch[r], iteration[r], shapes$rows[r])
  })
  check(known_iteration & parsed$col > shapes$cols, "col", function(r) {
    sprintf("%s is past the last column of %s (layer %d), %d", cell("col", r), names[r],
            layer[r], shapes$cols[r])
  })
  n_samples <- nrow(fixture$X)
  value <- parsed$value
  a_row <- !is.na(value) & value == floor(value) & value >= 1 & value <= n_samples
  check(quantity == "samples" & !a_row, "value", function(r) {
    sprintf("%s is not a row of X: samples are whole numbers from 1 to %d", cell("value", r),
            n_samples)
  })
  if (length(problems) > 0) {
    first <- nn_first_problem(problems)
    fail(sprintf("%s %d, column %s", where, lines[first$row], first$column), first$problem)
  }

  g <- (epoch - 1) * batching$per_epoch + iteration
  row <- parsed$row
  col <- parsed$col
  # The same number twice.
  cell_code <- (((g * length(run_keys) + key - 1) * (max(row) + 1) + row) * (max(col) + 1) + col)
  if (anyDuplicated(cell_code)) {
    r <- anyDuplicated(cell_code)
    original <- match(cell_code[r], cell_code)
    fail(sprintf("%s %d", where, lines[r]),
         sprintf("repeats %s %d: epoch %d, iteration %d, %s (layer %d), row %d, col %d", where,
                 lines[original], epoch[r], iteration[r], names[r], layer[r], row[r], col[r]),
         "structure")
  }
  first_seen <- !duplicated(key)
  list(epoch = epoch, iteration = iteration, g = g, layer = layer, quantity = quantity,
       key = key, row = row, col = col, value = parsed$value, rows = shapes$rows,
       cols = shapes$cols,
       names = stats::setNames(names[first_seen], run_keys[key[first_seen]]))
}

# The table's columns, as nn_trace_table makes them.
nn_table_columns <- c("epoch", "iteration", "step", "layer", "quantity", "row", "col", "value")

#' A name's quantity (nnscratch's), the layer it implies (-1: none, the table says), and
#' the highest layer it may be in.
#' @noRd
nn_name_layers <- function(name, fixture) {
  n_layers <- length(fixture$layers)
  article <- match(name, nn_article_quantities$name)
  quantity <- if (is.na(article)) name else nn_article_quantities$quantity[article]
  role <- if (is.na(article)) "" else nn_article_quantities$role[article]
  if (role == "output" || quantity %in% c("error", "loss")) {
    return(list(quantity = quantity, implied = n_layers, top = n_layers))
  }
  if (quantity == "samples") {
    return(list(quantity = quantity, implied = 0, top = 0))
  }
  top <- if (role == "hidden" || quantity == "error_at_layer") n_layers - 1 else n_layers
  list(quantity = quantity, implied = if (role == "hidden" && n_layers == 2) 1 else -1, top = top)
}

# Iterations per epoch, the batch size, and the size of an epoch's last batch.
nn_batching <- function(fixture) {
  n <- nrow(fixture$X)
  size <- if (is.null(fixture[["batch_size"]])) n else min(fixture$batch_size, n)
  per_epoch <- ceiling(n / size)
  list(per_epoch = per_epoch, size = size, last_size = n - (per_epoch - 1) * size)
}

#' The rows and columns of (layer, quantity) in an iteration of samples samples,
#' elementwise over vectors. A bias has one row per sample at most (one is usual).
#' @noRd
nn_shapes <- function(fixture, layer, quantity, samples) {
  inputs <- c(1, vapply(fixture$layers, function(l) nrow(l$weights), 1))
  units <- c(1, vapply(fixture$layers, function(l) ncol(l$weights), 1))
  rows <- ifelse(quantity == "weights", inputs[layer + 1], ifelse(quantity == "loss", 1, samples))
  cols <- ifelse(quantity %in% c("samples", "loss"), 1, units[layer + 1])
  list(rows = rows, cols = cols)
}

#' One quantity of one layer, as a learner (or nnscratch) recorded it: gs, the iterations
#' recorded (numbered over the run from 1, in order); block, an array [iteration, row,
#' col] (rows past those recorded are NA); rows, the rows recorded in each iteration.
#' @noRd
nn_series <- function(gs, block, rows) {
  list(gs = gs, block = block, rows = rows)
}

#' The learner's numbers by "layer:quantity", each a series; every quantity recorded in an
#' iteration must be whole, and a bias have one row or one per sample.
#' @noRd
nn_record_table <- function(fixture, table, source) {
  run_order <- nn_trace_steps(length(fixture$layers))
  run_keys <- paste(run_order$layer, run_order$quantity, sep = ":")
  n_keys <- length(run_keys)
  g <- table$g
  key <- table$key
  row <- table$row
  col <- table$col
  # Each (iteration, quantity) recorded, in the order of the run, and its cells.
  code <- g * n_keys + key - 1
  codes <- sort(unique(code))
  group_of <- match(code, codes)
  counts <- tabulate(group_of, length(codes))
  rows <- as.vector(tapply(row, group_of, max))
  expected_rows <- cols <- numeric(length(codes))
  expected_rows[group_of] <- table$rows
  cols[group_of] <- table$cols
  group_key <- codes %% n_keys + 1
  bias <- run_order$quantity[group_key] == "bias"
  bad_rows <- bias & rows != 1 & rows != expected_rows
  full <- ifelse(bias, rows, expected_rows)
  bad <- bad_rows | counts != full * cols
  if (any(bad)) {
    i <- which(bad)[1]
    at <- nn_epoch_iteration(fixture, codes[i] %/% n_keys)
    k <- group_key[i]
    location <- sprintf("epoch %d, iteration %d, %s (layer %d)", at[1], at[2],
                        table$names[[run_keys[k]]], run_order$layer[k])
    if (bad_rows[i]) {
      nn_input_error(location, sprintf("has %d rows; a bias has 1 row, or one per sample (%d)",
                                       rows[i], expected_rows[i]), source, category = "shape")
    }
    present <- matrix(FALSE, full[i], cols[i])
    mine <- group_of == i
    present[cbind(row[mine], col[mine])] <- TRUE
    missing <- which(t(!present), arr.ind = TRUE)[1, ]
    nn_input_error(location, sprintf(paste(
      "row %d, col %d is missing; a quantity recorded in an iteration needs all its numbers"
    ), missing[2], missing[1]), source, category = "shape")
  }
  record <- list()
  for (k in sort(unique(key))) {
    mine <- key == k
    gs <- sort(unique(g[mine]))
    position <- match(g[mine], gs)
    block <- array(NA_real_, c(length(gs), max(row[mine]), max(col[mine])))
    block[cbind(position, row[mine], col[mine])] <- table$value[mine]
    record[[run_keys[k]]] <- nn_series(gs, block, as.vector(tapply(row[mine], position, max)))
  }
  record
}

# The epoch and the iteration within it of iteration g of the run.
nn_epoch_iteration <- function(fixture, g) {
  per_epoch <- nn_batching(fixture)$per_epoch
  c((g - 1) %/% per_epoch + 1, (g - 1) %% per_epoch + 1)
}

# The part of a series in epochs first to last.
nn_within <- function(series, first, last, fixture) {
  per_epoch <- nn_batching(fixture)$per_epoch
  keep <- series$gs > (first - 1) * per_epoch & series$gs <= last * per_epoch
  nn_series(series$gs[keep], series$block[keep, , , drop = FALSE], series$rows[keep])
}

# A series from a list of matrices named by their iteration.
nn_stack <- function(per_g) {
  gs <- sort(as.numeric(names(per_g)))
  matrices <- per_g[as.character(gs)]
  rows <- vapply(matrices, nrow, 1)
  block <- array(NA_real_, c(length(gs), max(rows), ncol(matrices[[1]])))
  for (i in seq_along(matrices)) block[i, seq_len(rows[i]), ] <- matrices[[i]]
  nn_series(gs, block, unname(rows))
}

# ---- Check: driving a learner's function

# What nn_check_step can give a learner's function, by name.
nn_given <- c("X", "y", "lr", "learning_rate")
nn_article_network <- c("wh", "bh", "wout", "bout")

#' The names of the arguments the learner's function takes, checked against the fixture.
#' @noRd
nn_arguments <- function(fixture, one_iteration) {
  if (!is.function(one_iteration)) {
    nn_input_error("one_iteration", paste("must be a function; got", nn_describe(one_iteration)),
                   category = "structure")
  }
  parameters <- formals(one_iteration)
  wanted <- character()
  for (name in names(parameters)) {
    if (name %in% c(nn_given, nn_article_network, "layers")) {
      wanted <- c(wanted, name)
    } else if (name != "..." && is.symbol(parameters[[name]]) &&
                 !nzchar(as.character(parameters[[name]]))) { # no default
      nn_input_error("one_iteration", sprintf(paste(
        "asks for '%s', which nnscratch does not give; it gives X, y, lr (or learning_rate),",
        "and the network as wh, bh, wout, bout (the article's) or as layers (nnscratch's)"
      ), name), category = "structure")
    }
  }
  article <- wanted[wanted %in% nn_article_network]
  if ("layers" %in% wanted) {
    if (length(article) > 0) {
      nn_input_error("one_iteration", paste(
        "takes layers, nnscratch's network: it cannot take the article's wh, bh, wout, bout",
        "too"
      ), category = "structure")
    }
    return(wanted)
  }
  if (length(fixture$layers) != 2) {
    nn_input_error("one_iteration", sprintf(paste(
      "takes the article's network (wh, wout), which has one hidden layer, but %s has %d:",
      "take layers instead"
    ), fixture$name, length(fixture$layers) - 1), category = "structure")
  }
  needed <- nn_network_names(fixture, TRUE)
  if (!identical(sort(article), sort(needed))) {
    nn_input_error("one_iteration", sprintf("must take %s, the network of %s",
                                            paste(needed, collapse = ", "), fixture$name),
                   category = "structure")
  }
  wanted
}

# The names a learner's function takes the network by: nnscratch's layers, or the article's
# wh, bh, wout, bout (without the biases a fixture's layers do not have).
nn_network_names <- function(fixture, article) {
  if (!article) return("layers")
  layers <- fixture$layers[c(1, 1, 2, 2)]
  with_bias <- vapply(layers, function(l) !is.null(l$bias), TRUE)
  nn_article_network[startsWith(nn_article_network, "w") | with_bias]
}

# The network the learner's function is first given: a bias as a 1 x units matrix.
nn_first_params <- function(fixture, article) {
  if (!article) return(list(layers = fixture$layers))
  params <- list()
  names <- list(c("wh", "bh"), c("wout", "bout"))
  for (l in 1:2) {
    layer <- fixture$layers[[l]]
    params[[names[[l]][1]]] <- layer$weights
    if (!is.null(layer$bias)) params[[names[[l]][2]]] <- matrix(layer$bias, nrow = 1)
  }
  params
}

# What a learner's function returned for name, as a numeric matrix: a number is 1 x 1, a
# vector one row.
nn_returned_matrix <- function(value, name) {
  if (!is.numeric(value)) {
    nn_input_error("one_iteration", sprintf("returned %s as %s, not numbers", name,
                                            nn_describe(value)), category = "structure")
  }
  if (length(dim(value)) > 2) {
    nn_input_error("one_iteration", sprintf("returned %s with %d dimensions; at most 2", name,
                                            length(dim(value))), category = "shape")
  }
  if (is.null(dim(value))) matrix(as.numeric(value), nrow = 1) else value + 0
}

#' The network and the numbers of one iteration of a learner's function.
#' @param seen an environment whose names (the learner's name of each "layer:quantity")
#'   this fills.
#' @noRd
nn_read_result <- function(fixture, result, article, n, seen) {
  if (!is.list(result) || is.null(names(result)) || !all(nzchar(names(result)))) {
    nn_input_error("one_iteration", paste(
      "must return what it computed by name (a dict in Python, a named list in R);",
      "it returned", nn_describe(result)
    ), category = "structure")
  }
  n_layers <- length(fixture$layers)
  numbers <- list()
  params <- list()
  for (name in names(result)) {
    value <- result[[name]]
    article_name <- match(name, nn_article_quantities$name)
    if (article && !is.na(article_name)) {
      quantity <- nn_article_quantities$quantity[article_name]
      matrices <- list(value)
      names(matrices) <- if (nn_article_quantities$role[article_name] == "hidden") 1 else n_layers
      if (name %in% nn_article_network) params[[name]] <- nn_returned_matrix(value, name)
    } else if (!article && name == "layers") {
      params[[name]] <- nn_layers_returned(value, n_layers)
      for (quantity in c("weights", "bias")) {
        matrices <- stats::setNames(lapply(value, `[[`, quantity), seq_len(n_layers))
        numbers <- c(numbers, nn_check_shapes(fixture, quantity, n, seen, quantity, matrices))
      }
      next
    } else if (!article && name %in% nn_nnscratch_names && name != "samples") {
      quantity <- name
      matrices <- if (name %in% c("error", "loss")) {
        stats::setNames(list(value), n_layers)
      } else {
        stats::setNames(nn_layers_returned(value, n_layers, name), seq_len(n_layers))
      }
    } else {
      nn_input_error("one_iteration", sprintf(
        "returned '%s', which is not %s, as the network it takes is", name,
        if (article) "one of the article's names" else "one of nnscratch's names"
      ), category = "value")
    }
    numbers <- c(numbers, nn_check_shapes(fixture, quantity, n, seen, name, matrices))
  }
  missing <- setdiff(nn_network_names(fixture, article), names(params))
  if (length(missing) > 0) {
    nn_input_error("one_iteration", sprintf(
      "must return the updated %s, which its next call is given", paste(missing, collapse = ", ")
    ), category = "structure")
  }
  list(params = params, numbers = numbers)
}

# A list with one entry per layer, as a learner's function returned it.
nn_layers_returned <- function(value, n_layers, name = "layers") {
  if (!is.list(value) || length(value) != n_layers) {
    nn_input_error("one_iteration", sprintf(
      "returned %s as %s; nnscratch's is a list with one entry per layer (%d)", name,
      nn_describe(value), n_layers
    ), category = "structure")
  }
  value
}

#' The numbers (by "layer:quantity") of what a learner's function returned under name,
#' each matrix checked against the shape nnscratch's has.
#' @param matrices a list named by layer number.
#' @noRd
nn_check_shapes <- function(fixture, quantity, n, seen, name, matrices) {
  numbers <- list()
  for (l in names(matrices)) {
    value <- matrices[[l]]
    if (is.null(value)) next
    layer <- as.integer(l)
    matrix <- nn_returned_matrix(value, name)
    shape <- nn_shapes(fixture, layer, quantity, n)
    fits <- ncol(matrix) == shape$cols &&
      (nrow(matrix) == shape$rows || (quantity == "bias" && nrow(matrix) == 1))
    if (!fits) {
      nn_input_error("one_iteration", sprintf(
        "returned %s (layer %d) of %d x %d; nnscratch's is %d x %d", name, layer, nrow(matrix),
        ncol(matrix), if (quantity == "bias") 1 else shape$rows, shape$cols
      ), category = "shape")
    }
    key <- paste(layer, quantity, sep = ":")
    if (!(key %in% names(seen$names))) seen$names[[key]] <- name
    numbers[[key]] <- matrix
  }
  numbers
}

# ---- Check: running the fixture, nnscratch's iteration and the catalogue's

#' One epoch of the fixture's run: its batches as nn_train takes them (step 0), and
#' iterate(params, X, y, lr) -> list(params, numbers) on each.
#'
#' @return list(params, state, found): the params and the generator's state after it, and
#'   the numbers of each iteration, named by its number in the run, the batch's samples
#'   among them.
#' @noRd
nn_run_epoch <- function(fixture, params, state, iterate, epoch) {
  f <- fixture
  batching <- nn_batching(f)
  epoch_batches <- nn_batches(f$X, f$y, batching$size, isTRUE(f[["shuffle"]]), state)
  found <- list()
  for (i in seq_along(epoch_batches$batches)) {
    batch <- epoch_batches$batches[[i]]
    done <- iterate(params, batch$X, batch$y, f$lr)
    params <- done$params
    numbers <- done$numbers
    numbers[["0:samples"]] <- matrix(batch$rows, ncol = 1)
    found[[as.character((epoch - 1) * batching$per_epoch + i)]] <- numbers
  }
  list(params = params, state = epoch_batches$state, found = found)
}

#' Drive a run (an environment of params, state and epoch) on to the iterations wanted
#' (numbered over the run) and return their numbers; epochs with none of them are leapt
#' over with nn_train when leap.
#' @noRd
nn_run_to <- function(fixture, run, iterate, wanted, leap) {
  f <- fixture
  per_epoch <- nn_batching(f)$per_epoch
  is_wanted <- logical(max(wanted))
  is_wanted[wanted] <- TRUE
  found <- list()
  for (epoch in sort(unique((wanted - 1) %/% per_epoch + 1))) {
    if (leap && epoch - 1 > run$epoch) {
      result <- nn_train(run$params, f$X, f$y, f$lr, epoch - 1 - run$epoch,
                         batch_size = f[["batch_size"]], shuffle = isTRUE(f[["shuffle"]]),
                         seed = run$state)
      run$params <- result$layers
      run$state <- result$state
    }
    for (now in if (leap) epoch else seq(run$epoch + 1, epoch)) {
      ran <- nn_run_epoch(f, run$params, run$state, iterate, now)
      run$params <- ran$params
      run$state <- ran$state
      gs <- as.numeric(names(ran$found))
      found[[length(found) + 1]] <- ran$found[gs <= length(is_wanted) & is_wanted[gs]]
    }
    run$epoch <- epoch
  }
  do.call(c, found)
}

# A run of the fixture from its initial network, not yet started.
nn_new_run <- function(fixture) {
  run <- new.env()
  run$params <- fixture$layers
  run$state <- fixture[["seed"]]
  run$epoch <- 0
  run
}

# nnscratch's iteration: nn_step, and its numbers by "layer:quantity".
nn_reference_step <- function(layers, X, y, lr) {
  now <- nn_step(layers, X, y, lr)
  list(params = now$layers, numbers = nn_numbers_by_layer(nn_step_values(now), now$loss))
}

# The numbers by "layer:quantity" from a list of quantities, each one matrix per layer.
nn_numbers_by_layer <- function(values, loss) {
  numbers <- list()
  for (quantity in names(values)) {
    for (l in seq_along(values[[quantity]])) {
      matrix <- values[[quantity]][[l]]
      if (is.null(matrix)) next
      numbers[[paste(l, quantity, sep = ":")]] <- if (is.null(dim(matrix))) {
        matrix(matrix, nrow = 1)
      } else {
        matrix
      }
    }
  }
  numbers[[paste(length(values$weights), "loss", sep = ":")]] <- matrix(loss)
  numbers
}

# A bias as one row per sample: repeated by row, or (bias-by-column) filled by column as
# matrix(rep(b, n), nrow = n) fills it; a bias that is already one row per sample stays.
nn_bias_rows <- function(bias, n, by_column) {
  if (is.null(bias)) return(0)
  if (is.matrix(bias)) { # a learner's loop could not add it to a batch of another size
    return(if (nrow(bias) == n) bias else matrix(NA_real_, n, ncol(bias)))
  }
  if (by_column) return(matrix(rep(bias, n), nrow = n))
  matrix(bias, n, length(bias), byrow = TRUE)
}

#' One iteration as a learner's loop with the mistake mistake computes it.
#'
#' The catalogue's code: the article's steps written out once more on purpose, each
#' mistake where a learner makes it (nnscratch's own iteration is nn_step). A bias is a
#' vector, or, once bias-per-sample moved it, one row per sample.
#' @noRd
nn_mistaken_step <- function(layers, X, y, lr, mistake) {
  n <- nrow(X)
  n_layers <- length(layers)
  layer_input <- activation <- slope <- vector("list", n_layers)
  for (l in seq_len(n_layers)) {
    previous <- if (l == 1) X else activation[[l - 1]]
    bias <- nn_bias_rows(layers[[l]]$bias, n, mistake == "bias-by-column")
    layer_input[[l]] <- previous %*% layers[[l]]$weights + bias
    activation[[l]] <- nn_activations[[layers[[l]]$activation]]$f(layer_input[[l]])
  }
  output <- activation[[n_layers]]
  error <- if (mistake == "sign-flipped") output - y else y - output
  loss <- sum(error^2) / length(error) / 2
  for (l in seq_len(n_layers)) {
    from <- if (mistake == "slope-from-input") layer_input[[l]] else activation[[l]]
    slope[[l]] <- nn_activations[[layers[[l]]$activation]]$slope(from)
  }
  delta <- error_at_layer <- vector("list", n_layers)
  delta[[n_layers]] <- error * slope[[n_layers]] * (if (mistake == "lr-twice") lr else 1)
  for (l in n_layers - seq_len(n_layers - 1)) {
    above <- layers[[l + 1]]$weights
    if (mistake == "update-before-backprop") { # the layer above has moved already
      above <- above + lr * crossprod(activation[[l]], delta[[l + 1]])
    }
    error_at_layer[[l]] <- tcrossprod(delta[[l + 1]], above)
    delta[[l]] <- error_at_layer[[l]] * slope[[l]]
  }
  rate <- if (mistake == "mean-not-sum") lr / n else lr
  updated <- layers
  for (l in seq_len(n_layers)) {
    previous <- if (l == 1) X else activation[[l - 1]]
    updated[[l]]$weights <- layers[[l]]$weights + rate * crossprod(previous, delta[[l]])
    bias <- layers[[l]]$bias
    if (is.null(bias) || mistake == "missing-bias-update") next
    updated[[l]]$bias <- if (mistake == "bias-per-sample") {
      nn_bias_rows(bias, n, FALSE) + lr * rowSums(delta[[l]])
    } else if (mistake == "hidden-bias-output-delta" && l < n_layers) {
      bias + lr * sum(delta[[n_layers]])
    } else if (mistake == "no-lr-on-bias") {
      bias + colSums(delta[[l]])
    } else {
      bias + rate * colSums(delta[[l]])
    }
  }
  values <- list(
    layer_input = layer_input, activation = activation,
    error = c(vector("list", n_layers - 1), list(error)), slope = slope, delta = delta,
    error_at_layer = error_at_layer, weights = lapply(updated, `[[`, "weights"),
    bias = lapply(updated, `[[`, "bias")
  )
  list(params = updated, numbers = nn_numbers_by_layer(values, loss))
}

# ---- Check: comparing, and the answer

# The harness's tolerance per quantity: the ulps of python/nnscratch/compare.py's
# TOLERANCES, where each is explained (a test keeps the two equal). A number agrees when
# |got - expected| <= ulps * eps * scale, its scale from nn_noise_scales.
nn_tolerance_ulps <- c(
  samples = 0, layer_input = 16, activation = 16, error = 4, loss = 4, slope = 4, delta = 4,
  error_at_layer = 2, weights = 64, bias = 32
)

# The rule, as both languages' answers state it (Python's TOLERANCE_RULE).
nn_tolerance_rule <-
  "|got - expected| <= ulps * eps * scale, per quantity (nnscratch.compare.TOLERANCES)"

#' The scale of every number of two traces of one run, as Python's noise_scales makes it.
#'
#' Each quantity's scale is written from its formula (python/nnscratch/compare.py,
#' TOLERANCES, says each and why), number by number: |x| is the larger of the two
#' traces' |x| (0 where neither holds a number).
#' @param first,second traces of every quantity of the same run.
#' @param X the run's data.
#' @return list keyed "layer quantity" of arrays [iteration, row, col].
#' @noRd
nn_noise_scales <- function(first, second, X) {
  n_layers <- length(first$layers)
  size <- function(layer, quantity) {
    m <- pmax(abs(nn_trace_block(first, layer, quantity)),
              abs(nn_trace_block(second, layer, quantity)))
    m[is.na(m)] <- 0
    m
  }
  # Per iteration, the largest |x| of its matrix and of those before it, spread over
  # an array of the block's shape.
  so_far <- function(block) {
    array(cummax(apply(block, 1, max)), dim(block))
  }
  # left %*% right for every iteration.
  through <- function(left, right) {
    d <- c(dim(left), dim(right)[3])
    out <- array(0, d[c(1, 2, 4)])
    for (k in seq_len(d[1])) {
      out[k, , ] <- matrix(left[k, , ], d[2], d[3]) %*% matrix(right[k, , ], d[3], d[4])
    }
    out
  }
  key <- function(layer, quantity) paste(layer, quantity)
  scales <- list()
  for (layer in seq_len(n_layers)) {
    weights <- so_far(size(layer, "weights"))
    scales[[key(layer, "weights")]] <- weights
    if ("bias" %in% names(first$layers[[layer]])) {
      bias <- size(layer, "bias")
      largest_weight <- array(weights[, 1, 1], dim(bias))
      scales[[key(layer, "bias")]] <- pmax(so_far(bias), largest_weight)
    }
  }
  samples <- first$samples
  used <- samples > 0
  inputs <- array(0, c(dim(samples), ncol(X)))
  for (feature in seq_len(ncol(X))) {
    inputs[, , feature] <- abs(X)[pmax(samples, 1), feature] * used
  }
  input_scale <- array(0, dim(inputs))
  for (layer in seq_len(n_layers)) {
    z <- through(inputs + input_scale, size(layer, "weights") + scales[[key(layer, "weights")]])
    if ("bias" %in% names(first$layers[[layer]])) {
      rows <- dim(z)[2]
      # One row for every sample, or a row per sample (a learner's bias, as Python's
      # broadcasting takes either).
      spread <- function(bias) {
        if (dim(bias)[2] == rows) bias else bias[, rep(1, rows), , drop = FALSE]
      }
      z <- z + spread(size(layer, "bias")) + spread(scales[[key(layer, "bias")]])
    }
    slope <- size(layer, "slope")
    activation <- size(layer, "activation")
    scales[[key(layer, "layer_input")]] <- z
    scales[[key(layer, "activation")]] <- slope * z + activation
    scales[[key(layer, "slope")]] <- 2 * scales[[key(layer, "activation")]] + slope
    inputs <- activation
    input_scale <- scales[[key(layer, "activation")]]
  }
  error <- size(n_layers, "error")
  scales[[key(n_layers, "error")]] <- scales[[key(n_layers, "activation")]] + error
  counted <- pmax(rowSums(used), 1) * dim(error)[3]
  scales[[key(n_layers, "loss")]] <- array(
    apply(error * scales[[key(n_layers, "error")]], 1, sum) / counted, c(dim(error)[1], 1, 1)
  ) + size(n_layers, "loss")
  factor <- error
  factor_scale <- scales[[key(n_layers, "error")]]
  for (layer in rev(seq_len(n_layers))) {
    if (layer < n_layers) {
      above <- size(layer + 1, "delta") + scales[[key(layer + 1, "delta")]]
      weights <- size(layer + 1, "weights") + scales[[key(layer + 1, "weights")]]
      scales[[key(layer, "error_at_layer")]] <- through(above, aperm(weights, c(1, 3, 2)))
      factor <- size(layer, "error_at_layer")
      factor_scale <- scales[[key(layer, "error_at_layer")]]
    }
    slope <- size(layer, "slope")
    scales[[key(layer, "delta")]] <- slope * factor_scale +
      factor * scales[[key(layer, "slope")]] + size(layer, "delta")
  }
  scales
}

#' The first divergence of the learner's trace from the expected one, or NULL.
#'
#' The one place where the grader decides whether numbers agree, by the harness's rule
#' (Python's compare_traces): every (layer, quantity) in the order of the run, the rows
#' that hold numbers, each number within its quantity's tolerance (nn_tolerance_ulps,
#' nn_noise_scales); a number that is not finite never agrees. The earliest iteration
#' first, then the first quantity, row and col.
#' @return NULL, or list(epoch, iteration, step, layer, quantity, row, col, got, expected).
#' @noRd
nn_compare <- function(mine, expected, X) {
  steps <- nn_trace_quantities(mine)
  scales <- nn_noise_scales(mine, expected, X)
  eps <- .Machine$double.eps
  found <- NULL
  for (i in seq_len(nrow(steps))) {
    quantity <- steps$quantity[i]
    a <- nn_trace_block(mine, steps$layer[i], quantity)
    b <- nn_trace_block(expected, steps$layer[i], quantity)
    used <- array(nn_trace_rows_used(mine, quantity, dim(a)[2]), dim(a))
    scale <- if (quantity == "samples") 0 else scales[[paste(steps$layer[i], quantity)]]
    tolerance <- nn_tolerance_ulps[[quantity]] * eps * scale
    agree <- is.finite(a) & is.finite(b) & abs(a - b) <= tolerance
    failing <- used & !(agree & !is.na(agree))
    if (!any(failing)) next
    at <- which(failing, arr.ind = TRUE)
    at <- unname(at[order(at[, 1], at[, 2], at[, 3])[1], ])
    if (is.null(found) || at[1] < found$k) {
      found <- list(k = at[1], epoch = mine$epoch[at[1]], iteration = mine$iteration[at[1]],
                    step = steps$step[i], layer = steps$layer[i], quantity = quantity,
                    row = at[2], col = at[3], got = a[at[1], at[2], at[3]],
                    expected = b[at[1], at[2], at[3]])
    }
  }
  found
}

#' The learner's numbers of keys (all recorded in the same iterations) laid over the
#' expected ones, and the expected ones, as two traces of every quantity for nn_compare:
#' what the learner did not record agrees by construction.
#'
#' The expected bias, one row, is compared with every row of the learner's; rows a
#' learner's bias did not have in an iteration hold the expected numbers in both.
#' @noRd
nn_traces <- function(fixture, keys, series, expected) {
  n_layers <- length(fixture$layers)
  batching <- nn_batching(fixture)
  gs <- series[[keys[1]]]$gs
  expected <- expected[match(as.character(gs), names(expected))]
  samples <- matrix(0, length(gs), batching$size)
  for (i in seq_along(gs)) {
    recorded <- expected[[i]][["0:samples"]][, 1]
    samples[i, seq_along(recorded)] <- recorded
  }
  loss_key <- paste(n_layers, "loss", sep = ":")
  loss <- vapply(expected, function(numbers) numbers[[loss_key]][1, 1], 1, USE.NAMES = FALSE)
  made <- list(epoch = (gs - 1) %/% batching$per_epoch + 1,
               iteration = (gs - 1) %% batching$per_epoch + 1, samples = samples, loss = loss,
               layers = lapply(seq_len(n_layers), function(l) list()))
  run_order <- nn_trace_steps(n_layers)
  for (k in seq_len(nrow(run_order))) {
    l <- run_order$layer[k]
    quantity <- run_order$quantity[k]
    key <- paste(l, quantity, sep = ":")
    if (quantity %in% c("samples", "loss") || is.null(expected[[1]][[key]])) next
    first <- expected[[1]][[key]]
    # A bias the learner keeps per sample gets a row per sample of a batch, as the
    # per-sample quantities have: nn_noise_scales adds each to its own sample's input.
    per_sample <- key %in% keys && dim(series[[key]]$block)[2] > 1
    rows <- switch(quantity, weights = nrow(first), bias = if (per_sample) batching$size else 1,
                   batching$size)
    block <- array(NA_real_, c(length(gs), rows, ncol(first)))
    for (i in seq_along(gs)) {
      matrix <- expected[[i]][[key]]
      if (quantity == "bias" && nrow(matrix) != rows) { # one row for many
        matrix <- matrix(matrix[1, ], rows, ncol(matrix), byrow = TRUE)
      }
      block[i, seq_len(nrow(matrix)), ] <- matrix
    }
    made$layers[[l]][[quantity]] <- block
  }
  mine <- made
  for (key in keys) {
    parts <- strsplit(key, ":", fixed = TRUE)[[1]]
    l <- as.integer(parts[1])
    quantity <- parts[2]
    theirs <- series[[key]]
    rows <- dim(theirs$block)[2]
    recorded <- outer(theirs$rows, seq_len(rows), `>=`)
    if (quantity == "samples") {
      mine$samples[, seq_len(rows)][recorded] <- theirs$block[, , 1][recorded]
    } else if (quantity == "loss") {
      mine$loss <- theirs$block[, 1, 1]
    } else {
      recorded <- array(recorded, dim(theirs$block))
      ours <- mine$layers[[l]][[quantity]]
      ours[, seq_len(rows), ][recorded] <- theirs$block[recorded]
      mine$layers[[l]][[quantity]] <- ours
    }
  }
  list(mine = mine, made = made)
}

#' The learner's first divergence from expected (the numbers of each iteration, named by
#' its number), in run order, over the quantities in series, or NULL.
#' @noRd
nn_first_divergence <- function(fixture, series, expected, names) {
  run_order <- nn_trace_steps(length(fixture$layers))
  run_keys <- paste(run_order$layer, run_order$quantity, sep = ":")
  keys <- run_keys[run_keys %in% names(series)]
  keys <- keys[vapply(keys, function(key) length(series[[key]]$gs) > 0, TRUE)]
  groups <- split(keys, factor(vapply(keys, function(key) {
    paste(series[[key]]$gs, collapse = ",")
  }, ""), levels = unique(vapply(keys, function(key) paste(series[[key]]$gs, collapse = ","), ""))))
  found <- list()
  for (group in groups) {
    traces <- nn_traces(fixture, group, series, expected)
    d <- nn_compare(traces$mine, traces$made, fixture$X)
    if (is.null(d)) next
    key <- paste(d$layer, d$quantity, sep = ":")
    name <- if (key %in% names(names)) names[[key]] else d$quantity
    found[[length(found) + 1]] <- list(
      epoch = d$epoch, iteration = d$iteration, step = d$step, layer = d$layer,
      quantity = d$quantity, name = name, row = d$row, col = d$col, expected = d$expected,
      got = d$got
    )
  }
  if (length(found) == 0) return(NULL)
  found[[which.min(vapply(found, nn_position, 1, fixture = fixture))]]
}

# Where a divergence is in the order of the run, as one number.
nn_position <- function(d, fixture) {
  run_order <- nn_trace_steps(length(fixture$layers))
  g <- (d$epoch - 1) * nn_batching(fixture)$per_epoch + d$iteration
  g * nrow(run_order) + match(paste(d$layer, d$quantity), paste(run_order$layer,
                                                                run_order$quantity)) - 1
}

# The epochs compared together, ten times more each time: 1, 2 to 10, 11 to 100, ...
nn_windows <- function(last_epoch) {
  windows <- list()
  first <- last <- 1
  while (first <= last_epoch) {
    windows[[length(windows) + 1]] <- c(first, min(last, last_epoch))
    first <- last + 1
    last <- last * 10
  }
  windows
}

#' Compare the learner's numbers in epochs (first, last), which learner(first, last) gives
#' window by window, with nnscratch's; then diagnose the first divergence.
#' @param names the learner's name of each "layer:quantity", or a function giving them.
#' @noRd
nn_grade <- function(fixture, learner, epochs, names, source) {
  run_order <- nn_trace_steps(length(fixture$layers))
  run_keys <- paste(run_order$layer, run_order$quantity, sep = ":")
  per_epoch <- nn_batching(fixture)$per_epoch
  reference <- nn_new_run(fixture)
  learner_names <- function() if (is.function(names)) names() else names
  compared <- list()
  divergence <- NULL
  numbers <- 0
  for (window in nn_windows(epochs[2])) {
    series <- learner(window[1], window[2])
    series <- series[vapply(series, function(s) length(s$gs) > 0, TRUE)]
    if (length(series) == 0) next
    wanted <- unique(unlist(lapply(series, `[[`, "gs")))
    expected <- nn_run_to(fixture, reference, nn_reference_step, wanted, TRUE)
    divergence <- nn_first_divergence(fixture, series, expected, learner_names())
    if (!is.null(divergence)) {
      g <- (divergence$epoch - 1) * per_epoch + divergence$iteration
      series <- lapply(series, nn_until, g = g)
    }
    compared[[length(compared) + 1]] <- series
    numbers <- numbers + sum(vapply(series, function(s) sum(s$rows) * dim(s$block)[3], 1))
    if (!is.null(divergence)) break
  }
  names <- learner_names()
  # base::names: the argument names, a string, would hide it here when it is one name.
  recorded <- run_keys[run_keys %in% unlist(lapply(compared, base::names))]
  position <- match(recorded, run_keys)
  all_gs <- unlist(lapply(compared, function(c) lapply(c, `[[`, "gs")))
  # The epochs of the iterations compared, the first to the last (up to the divergence).
  epochs <- (range(all_gs) - 1) %/% per_epoch + 1
  answer <- list(
    fixture = fixture$name, source = source,
    recorded = data.frame(
      name = ifelse(recorded %in% names(names), names[recorded], run_order$quantity[position]),
      layer = run_order$layer[position], quantity = run_order$quantity[position],
      step = run_order$step[position], stringsAsFactors = FALSE, row.names = NULL
    ),
    notes = nn_notes(fixture, compared, names), epochs = epochs, numbers = numbers,
    tolerance = nn_tolerance_rule, divergence = divergence, agreed = character(),
    iterations_before = 0, diagnosis = character(), ok = is.null(divergence)
  )
  class(answer) <- "nn_answer"
  if (is.null(divergence)) return(answer)
  g <- (divergence$epoch - 1) * per_epoch + divergence$iteration
  at <- match(paste(divergence$layer, divergence$quantity, sep = ":"), run_keys)
  in_its_iteration <- vapply(recorded, function(key) {
    any(vapply(compared, function(c) key %in% names(c) && g %in% c[[key]]$gs, TRUE))
  }, TRUE)
  agreed <- match(recorded[position < at & in_its_iteration], recorded)
  r <- answer$recorded
  answer$agreed <- unname(nn_agreed(r$name[agreed], r$layer[agreed], r$quantity[agreed]))
  answer$iterations_before <- length(unique(all_gs[all_gs < g]))
  answer$diagnosis <- nn_diagnose(fixture, compared, divergence, names)
  answer
}

nn_until <- function(series, g) {
  keep <- series$gs <= g
  nn_series(series$gs[keep], series$block[keep, , , drop = FALSE], series$rows[keep])
}

# The ids of nn_mistakes whose run, from the fixture's initial network, gives the learner's
# numbers up to and including the divergence.
nn_diagnose <- function(fixture, compared, divergence, names) {
  found <- character()
  for (mistake in nn_mistakes$id) {
    run <- nn_new_run(fixture)
    iterate <- function(layers, X, y, lr) nn_mistaken_step(layers, X, y, lr, mistake)
    first <- NULL
    for (series in compared) {
      wanted <- unique(unlist(lapply(series, `[[`, "gs")))
      made <- nn_run_to(fixture, run, iterate, wanted, FALSE)
      first <- nn_first_divergence(fixture, series, made, names)
      if (!is.null(first)) break
    }
    if (is.null(first) || nn_position(first, fixture) > nn_position(divergence, fixture)) {
      found <- c(found, mistake)
    }
  }
  found
}

# How the learner's shapes were read, where they are not nnscratch's.
nn_notes <- function(fixture, compared, names) {
  notes <- character()
  for (key in names(names)) {
    parts <- strsplit(key, ":", fixed = TRUE)[[1]]
    rows <- unlist(lapply(compared, function(c) if (key %in% names(c)) c[[key]]$rows))
    if (parts[2] == "bias" && length(rows) > 0 && max(rows) > 1) {
      units <- ncol(fixture$layers[[as.integer(parts[1])]]$weights)
      notes <- c(notes, sprintf(paste(
        "%s has one row per sample, as the article's R listing keeps it; nnscratch keeps one",
        "row (1 x %d), and each of yours is compared with it"
      ), names[[key]], units))
    }
  }
  notes
}

# A learner's name with nnscratch's, where they differ.
nn_named <- function(name, quantity) {
  if (name == quantity) name else sprintf("%s (nnscratch's %s)", name, quantity)
}

# Quantities that agreed, as the answer lists them: the learner's names, with the layer where
# the name does not say it.
nn_agreed <- function(name, layer, quantity) {
  ifelse(name == quantity, sprintf("%s %d", quantity, layer), name)
}

# A quantity recorded, as the answer lists it: the learner's name, nnscratch's and the layer.
nn_recorded <- function(name, layer, quantity) {
  ifelse(name == quantity, sprintf("%s %d", quantity, layer),
         sprintf("%s (%s %d)", name, quantity, layer))
}

# A number in an answer: 12 significant digits, the same in both languages.
nn_format_value <- function(x) {
  if (is.nan(x) || is.na(x)) return("NaN")
  if (is.infinite(x)) return(if (x > 0) "Inf" else "-Inf")
  sprintf("%.12g", x)
}

#' The answer as the command line prints it; Python's prints the same words.
#' @param x an answer, as nn_check_trace and nn_check_step return it.
#' @param ... unused.
#' @export
format.nn_answer <- function(x, ...) {
  r <- x$recorded
  lines <- c(
    sprintf("checked %s against %s, epochs %d to %d", x$source, x$fixture, x$epochs[1],
            x$epochs[2]),
    paste0("recorded, with nnscratch's name and layer: ",
           paste(nn_recorded(r$name, r$layer, r$quantity), collapse = ", ")),
    x$notes
  )
  if (x$ok) {
    lines <- c(lines, sprintf("agree: all %.0f numbers within the harness's tolerance, %s",
                              x$numbers, x$tolerance))
    return(paste0(paste(lines, collapse = "\n"), "\n"))
  }
  d <- x$divergence
  lines <- c(lines, sprintf(
    "first divergence: epoch %d, iteration %d, step %d, layer %d, %s, row %d, col %d: %s",
    d$epoch, d$iteration, d$step, d$layer, nn_named(d$name, d$quantity), d$row, d$col,
    sprintf("expected %s, got %s", nn_format_value(d$expected), nn_format_value(d$got))
  ))
  before <- if (x$iterations_before > 0) {
    sprintf("all %d recorded iterations before its own", x$iterations_before)
  } else {
    "no recorded iteration before its own"
  }
  within <- if (length(x$agreed) > 0) {
    paste(x$agreed, collapse = ", ")
  } else {
    "nothing recorded before it"
  }
  lines <- c(lines, sprintf("agreed before it: %s; in its own, %s", before, within))
  if (length(x$diagnosis) > 0) {
    mistake <- nn_mistakes[nn_mistakes$id == x$diagnosis[1], ]
    others <- paste0(sprintf(" (or %s)", x$diagnosis[-1]), collapse = "")
    lines <- c(lines, sprintf("looks like %s%s: %s", x$diagnosis[1], others, mistake$what),
               paste("fix:", mistake$fix))
  } else {
    lines <- c(lines, sprintf("looks like none of the known mistakes (%s)",
                              paste(nn_mistakes$id, collapse = ", ")))
  }
  paste0(paste(lines, collapse = "\n"), "\n")
}

#' Print an answer: its report.
#' @param x an answer.
#' @param ... unused.
#' @export
print.nn_answer <- function(x, ...) {
  cat(format(x))
  invisible(x)
}

# ---- source() --------------------------------------------------------------------
# What differs when this file is source()d rather than installed as the package.

# Register the S3 methods among the blocks marked @export (print.nn_result: the generic
# print, the class nn_result), as a package's NAMESPACE does. And in the global
# environment, move what this file defined into an environment of its own, as a
# package's namespace holds it, with every function's enclosure (in lists too), and
# leave there only the functions the package exports.
nn_settle_sourced <- function(path, where) {
  code <- parse(path, keep.source = TRUE, encoding = "UTF-8")
  lines <- readLines(path, encoding = "UTF-8")
  defined <- exported <- character()
  for (i in seq_along(code)) {
    expression <- code[[i]]
    if (is.call(expression) && identical(expression[[1]], as.name("<-"))) {
      name <- as.character(expression[[2]])
      defined <- c(defined, name)
      above <- seq_len(attr(code, "srcref")[[i]][1] - 1)
      block <- rev(cumprod(rev(startsWith(lines[above], "#'")))) == 1
      if ("#' @export" %in% lines[above][block]) exported <- c(exported, name)
    }
  }
  methods <- grepl(".", exported, fixed = TRUE)
  home <- where
  if (identical(where, globalenv())) {
    home <- new.env(parent = where)
    rehome <- function(value) {
      if (is.function(value)) {
        environment(value) <- home
      } else if (is.list(value) && !is.data.frame(value)) {
        value[] <- lapply(value, rehome)
      }
      value
    }
    for (name in unique(defined)) {
      assign(name, rehome(get(name, envir = where)), envir = home)
    }
    rm(list = unique(defined), envir = where)
    for (name in exported[!methods]) {
      assign(name, get(name, envir = home), envir = where)
    }
  }
  for (name in exported[methods]) {
    registerS3method(sub("[.].*", "", name), sub("^[^.]*[.]", "", name),
                     get(name, envir = home), where)
  }
}

# source("r/nnscratch.R") into the global environment (RStudio's Source, Rscript) leaves
# there the functions the package exports and nothing else. Sourced into an environment
# of its own (as the tests, r/cli.R and Python's RSession do), everything stays there. Either
# way, print, summary, plot and predict find their methods. Run line by line, it all stays
# where it was defined.
if (!isNamespace(environment()) && !is.null(nn_sourced_from)) {
  nn_settle_sourced(nn_sourced_from, environment())
}
