# nnscratch: the article's multi-layer perceptron, written to be read.
#
# source("r/nnscratch.R") only defines nn_* functions and tables. The same calls
# exist in Python (import nnscratch) without the nn_ prefix; the sections below
# follow the Python modules in order: activations, checks, trace, network, fixtures.

# ---- Activations ---------------------------------------------------------------
# Each slope is written from the activation's *output* a = f(z), as the article
# does (sigmoid: a * (1 - a)), so step 6 needs only the activations of the forward
# pass. Adding an activation is one entry in each table.

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

nn_activations <- list(sigmoid = nn_sigmoid)
nn_slopes <- list(sigmoid = nn_sigmoid_slope)

# ---- Checks ----------------------------------------------------------------------
# Checks on a network and its data, with messages that name the field at fault.
# Python has the same checks in the same order with the same messages, so that a
# bad fixture is refused with the same words in both languages.

#' Signal bad input: an error of class nnscratch_input_error.
#'
#' @param field what is wrong ("X", "layers[2].bias"), or NULL.
#' @param problem what is wrong with it.
#' @param path the file it came from, or NULL; with a path the error is also of
#'   class nnscratch_fixture_error.
nn_input_error <- function(field, problem, path = NULL) {
  message <- if (is.null(field)) problem else paste0(field, ": ", problem)
  class <- "nnscratch_input_error"
  if (!is.null(path)) {
    message <- paste0(path, ": ", message)
    class <- c("nnscratch_fixture_error", class)
  }
  stop(structure(
    class = c(class, "error", "condition"),
    list(message = message, call = NULL, field = field, problem = problem, path = path)
  ))
}

#' The shortest of %.15g, %.16g, %.17g that reads back as exactly x.
#'
#' Read back with jsonlite, the reader of fixtures. A result that would look like
#' an integer gets ".0" (1.0, -0.0), so that JSON readers keep it a double and keep
#' the sign of zero.
#' @param x numeric vector of finite numbers.
#' @return character vector.
nn_format_number <- function(x) {
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
    return(nn_format_number(value))
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
    nn_input_error(field, paste("must be a", if (ndim == 1) "vector" else "matrix", "of numbers"))
  }
  if (length(value) == 0) {
    nn_input_error(field, "must not be empty")
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
    nn_input_error("layers", "must hold at least one layer")
  }
  for (number in seq_along(layers)) {
    layer <- layers[[number]]
    field <- sprintf("layers[%d]", number)
    if (!(is.character(layer$activation) && length(layer$activation) == 1 &&
          layer$activation %in% names(nn_activations))) {
      nn_input_error(paste0(field, ".activation"), sprintf(
        "unknown activation '%s'; known: %s",
        paste(layer$activation, collapse = ","), paste(names(nn_activations), collapse = ", ")
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
      ))
    }
    nn_check_array(layer$bias, paste0(field, ".bias"), 1)
    if (length(layer$bias) != n_units) {
      nn_input_error(paste0(field, ".bias"), sprintf(
        "has %d numbers, but the layer has %d units (columns of weights); they must match",
        length(layer$bias), n_units
      ))
    }
  }
  nn_check_array(X, "X", 2)
  if (ncol(X) != nrow(layers[[1]]$weights)) {
    nn_input_error("X", sprintf(
      "has %d columns, but layers[1].weights has %d rows (one per feature); they must match",
      ncol(X), nrow(layers[[1]]$weights)
    ))
  }
}

#' Check everything nn_train is given, in the order Python checks it too.
#' @inheritParams nn_train
nn_check_training <- function(layers, X, y, lr, epochs) {
  nn_check_network(layers, X)
  nn_check_array(y, "y", 2)
  if (nrow(y) != nrow(X)) {
    nn_input_error("y", sprintf(
      "has %d rows, but X has %d (one per sample); they must match", nrow(y), nrow(X)
    ))
  }
  n_outputs <- ncol(layers[[length(layers)]]$weights)
  if (ncol(y) != n_outputs) {
    nn_input_error("y", sprintf(
      "has %d columns, but the last layer has %d units (one per output); they must match",
      ncol(y), n_outputs
    ))
  }
  if (!(nn_is_number(lr) && is.finite(lr) && lr > 0)) {
    nn_input_error("lr", paste("must be a finite number above 0; got", nn_describe(lr)))
  }
  if (!(nn_is_number(epochs) && is.finite(epochs) && epochs >= 0 && epochs == round(epochs))) {
    nn_input_error("epochs", paste("must be a whole number, 0 or more; got", nn_describe(epochs)))
  }
}

nn_is_number <- function(value) {
  is.numeric(value) && length(value) == 1
}

# ---- Trace -----------------------------------------------------------------------
# A trace is list(loss = <numeric, one per epoch>, layers = <list>), where
# trace$layers[[l]][[quantity]] is an array [epoch, row, col]: the value of that
# quantity for layer l at each epoch. Which quantities a layer has is given by
# nn_trace_steps().

#' The quantities one epoch computes, in the order the training loop computes them.
#'
#' @param n_layers number of layers of weights in the network.
#' @return data.frame with columns layer, quantity, step; layers count from 1.
#'   loss is listed with the output layer at step 5.
nn_trace_steps <- function(n_layers) {
  steps <- list()
  add <- function(layer, quantity, step) {
    steps[[length(steps) + 1]] <<- data.frame(layer = layer, quantity = quantity, step = step)
  }
  for (layer in seq_len(n_layers)) {
    hidden <- layer < n_layers
    add(layer, "layer_input", if (hidden) 2L else 4L)
    add(layer, "activation", if (hidden) 3L else 4L)
  }
  add(n_layers, "error", 5L)
  add(n_layers, "loss", 5L)
  for (layer in seq_len(n_layers)) add(layer, "slope", 6L)
  add(n_layers, "delta", 7L)
  for (layer in rev(seq_len(n_layers - 1))) {
    add(layer, "error_at_layer", 8L)
    add(layer, "delta", 9L)
  }
  for (layer in seq_len(n_layers)) {
    add(layer, "weights", 10L)
    add(layer, "bias", 11L)
  }
  steps <- do.call(rbind, steps)
  steps$layer <- as.integer(steps$layer)
  steps
}

#' An unfilled trace (every value NA) for training layers on n_samples rows.
#' @param layers list of layers.
#' @param n_samples number of rows of X.
#' @param epochs number of epochs.
nn_new_trace <- function(layers, n_samples, epochs) {
  recorded <- lapply(layers, function(layer) list())
  steps <- nn_trace_steps(length(layers))
  for (i in seq_len(nrow(steps))) {
    layer <- steps$layer[i]
    quantity <- steps$quantity[i]
    if (quantity == "loss") next
    n_inputs <- nrow(layers[[layer]]$weights)
    n_units <- ncol(layers[[layer]]$weights)
    n_rows <- switch(quantity, weights = n_inputs, bias = 1, n_samples)
    recorded[[layer]][[quantity]] <- array(NA_real_, c(epochs, n_rows, n_units))
  }
  list(loss = rep(NA_real_, epochs), layers = recorded)
}

#' The array [epoch, row, col] of one quantity; the loss as [epoch, 1, 1].
#' @param trace a trace.
#' @param layer layer number, from 1.
#' @param quantity a quantity of nn_trace_steps().
nn_trace_block <- function(trace, layer, quantity) {
  if (quantity == "loss") {
    return(array(trace$loss, c(length(trace$loss), 1, 1)))
  }
  trace$layers[[layer]][[quantity]]
}

#' The trace as one long table, one row per recorded number.
#'
#' @param trace a trace, as nn_train returns it.
#' @return data.frame with columns epoch, step, layer, quantity, row, col, value;
#'   every index starts at 1. Rows run epoch by epoch, in the order of
#'   nn_trace_steps() within an epoch, and row by row within a matrix.
nn_trace_table <- function(trace) {
  epochs <- length(trace$loss)
  steps <- nn_trace_steps(length(trace$layers))
  blocks <- vector("list", nrow(steps))
  index <- vector("list", nrow(steps))
  for (i in seq_len(nrow(steps))) {
    quantity <- steps$quantity[i]
    block <- nn_trace_block(trace, steps$layer[i], quantity)
    n_rows <- dim(block)[2]
    n_cols <- dim(block)[3]
    # [epoch, row, col] -> [epoch, col, row], so that a matrix reads row by row.
    blocks[[i]] <- matrix(aperm(block, c(1, 3, 2)), nrow = epochs)
    index[[i]] <- data.frame(
      step = steps$step[i], layer = steps$layer[i], quantity = quantity,
      row = rep(seq_len(n_rows), each = n_cols), col = rep(seq_len(n_cols), times = n_rows)
    )
  }
  index <- do.call(rbind, index)
  per_epoch <- nrow(index)
  data.frame(
    epoch = rep(seq_len(epochs), each = per_epoch),
    index[rep(seq_len(per_epoch), times = epochs), ],
    value = as.vector(t(do.call(cbind, blocks))),
    row.names = NULL
  )
}

# ---- Network ---------------------------------------------------------------------
# A layer is list(weights = <matrix n_inputs x n_units>, bias = <numeric n_units>,
# activation = "sigmoid"); a network is a list of layers; samples are rows.

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
    layer_input[[l]] <- previous %*% layer$weights + rep(layer$bias, each = nrow(X))
    activation[[l]] <- nn_activations[[layer$activation]](layer_input[[l]])
  }
  list(layer_input = layer_input, activation = activation)
}

#' Train by full-batch gradient descent, the article's eleven steps per epoch.
#'
#' @param layers the initial network (a list of layers); R copies it, so the
#'   caller's stays as it was.
#' @param X numeric matrix, n_samples x n_features.
#' @param y numeric matrix, n_samples x n_outputs.
#' @param lr learning rate, above 0.
#' @param epochs number of epochs, 0 or more.
#' @param trace record every quantity of every step of every epoch.
#' @return list(layers = <trained>, loss = <numeric, one per epoch>,
#'   trace = <a trace, or NULL>).
nn_train <- function(layers, X, y, lr, epochs, trace = FALSE) {
  nn_check_training(layers, X, y, lr, epochs)
  n_layers <- length(layers)
  loss <- numeric(epochs)
  recorded <- if (trace) nn_new_trace(layers, nrow(X), epochs) else NULL
  for (epoch in seq_len(epochs)) {
    # Steps 2 to 4: the forward pass.
    forward <- nn_forward(layers, X)
    layer_input <- forward$layer_input
    activation <- forward$activation
    # Step 5: the error at the output, and the loss it gives.
    error <- y - activation[[n_layers]]
    loss[epoch] <- mean(error^2) / 2
    # Step 6: the slope of every layer's activation, from its output.
    slope <- Map(function(layer, a) nn_slopes[[layer$activation]](a), layers, activation)
    # Step 7: the output layer's delta.
    delta <- vector("list", n_layers)
    error_at_layer <- vector("list", n_layers)
    delta[[n_layers]] <- error * slope[[n_layers]]
    # Steps 8 and 9, from the last hidden layer back to the first, with the weights
    # from before this epoch's update.
    for (l in rev(seq_len(n_layers - 1))) {
      error_at_layer[[l]] <- delta[[l + 1]] %*% t(layers[[l + 1]]$weights)
      delta[[l]] <- error_at_layer[[l]] * slope[[l]]
    }
    # Steps 10 and 11: move weights and bias by lr times the gradient summed over samples.
    for (l in seq_len(n_layers)) {
      previous <- if (l == 1) X else activation[[l - 1]]
      layers[[l]]$weights <- layers[[l]]$weights + lr * (t(previous) %*% delta[[l]])
      layers[[l]]$bias <- layers[[l]]$bias + lr * colSums(delta[[l]])
    }
    # Record the epoch: weights and bias as they are after the update.
    if (!is.null(recorded)) {
      recorded$loss[epoch] <- loss[epoch]
      now <- list(
        layer_input = layer_input, activation = activation,
        error = c(vector("list", n_layers - 1), list(error)), slope = slope, delta = delta,
        error_at_layer = error_at_layer, weights = lapply(layers, `[[`, "weights"),
        bias = lapply(layers, `[[`, "bias")
      )
      for (l in seq_len(n_layers)) {
        for (quantity in names(recorded$layers[[l]])) {
          recorded$layers[[l]][[quantity]][epoch, , ] <- now[[quantity]][[l]]
        }
      }
    }
  }
  list(layers = layers, loss = loss, trace = recorded)
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

# ---- Fixtures --------------------------------------------------------------------
# One JSON file holds a network, its data and how to train it. The format is
# nnscratch-fixture/1, described by fixtures/schema.json. Every double is written
# so that it reads back exactly, here and in Python.

nn_fixture_format <- "nnscratch-fixture/1"
nn_fixture_fields <- c("format", "name", "description", "X", "y", "layers", "lr", "epochs")
nn_layer_fields <- c("weights", "bias", "activation")

#' Read and check a fixture.
#'
#' @param path the file.
#' @return list(name, description, X, y, layers, lr, epochs).
#' @section Errors: an error of class nnscratch_fixture_error if the file cannot
#'   be read, is not JSON, or breaks the format; the message names the file and
#'   the field.
nn_load_fixture <- function(path) {
  text <- tryCatch(
    paste(readLines(path, encoding = "UTF-8", warn = FALSE), collapse = "\n"),
    condition = function(e) {
      nn_input_error(NULL, paste0("cannot be read (", conditionMessage(e), ")"), path)
    }
  )
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
      nn_input_error(NULL, paste0("is not valid JSON (", detail, ")"), path)
    }
  )
  tryCatch(
    nn_read_fixture(content),
    nnscratch_input_error = function(e) nn_input_error(e$field, e$problem, path)
  )
}

nn_read_fixture <- function(content) {
  nn_check_object(content, NULL, nn_fixture_fields)
  if (!identical(content$format, nn_fixture_format)) {
    nn_input_error("format", sprintf("must be '%s'", nn_fixture_format))
  }
  for (field in c("name", "description")) {
    if (!(is.character(content[[field]]) && length(content[[field]]) == 1)) {
      nn_input_error(field, paste("must be a string; got", nn_describe(content[[field]])))
    }
  }
  X <- nn_read_matrix(content$X, "X")
  y <- nn_read_matrix(content$y, "y")
  if (!is.list(content$layers) || !is.null(names(content$layers)) || length(content$layers) == 0) {
    nn_input_error("layers", "must be a non-empty array of layers")
  }
  layers <- Map(
    function(layer, number) nn_read_layer(layer, sprintf("layers[%d]", number)),
    content$layers, seq_along(content$layers)
  )
  nn_check_training(layers, X, y, content$lr, content$epochs)
  list(
    name = content$name, description = content$description, X = X, y = y,
    layers = layers, lr = as.numeric(content$lr), epochs = as.integer(content$epochs)
  )
}

# A JSON object with exactly the keys allowed, each once.
nn_check_object <- function(value, field, allowed) {
  if (!is.list(value) || is.null(names(value))) {
    nn_input_error(field, paste("must be a JSON object; got", nn_describe(value)))
  }
  prefix <- if (is.null(field)) "" else paste0(field, ".")
  for (key in unique(names(value)[duplicated(names(value))])) {
    nn_input_error(paste0(prefix, key), "appears more than once")
  }
  for (key in names(value)) {
    if (!(key %in% allowed)) {
      nn_input_error(paste0(prefix, key), sprintf(
        "is not a field of %s (the fields are %s)",
        nn_fixture_format, paste(allowed, collapse = ", ")
      ))
    }
  }
  for (key in allowed) {
    if (!(key %in% names(value))) {
      nn_input_error(paste0(prefix, key), "is missing")
    }
  }
}

nn_read_layer <- function(value, field) {
  nn_check_object(value, field, nn_layer_fields)
  weights <- nn_read_matrix(value$weights, paste0(field, ".weights"))
  bias <- nn_read_numbers(value$bias, paste0(field, ".bias"))
  if (!(is.character(value$activation) && length(value$activation) == 1)) {
    nn_input_error(
      paste0(field, ".activation"), paste("must be a string; got", nn_describe(value$activation))
    )
  }
  list(weights = weights, bias = bias, activation = value$activation)
}

# A JSON array of equally long rows of numbers, as a numeric matrix.
nn_read_matrix <- function(value, field) {
  if (!is.list(value) || !is.null(names(value)) || length(value) == 0) {
    nn_input_error(field, "must be a non-empty array of rows (arrays of numbers)")
  }
  for (number in seq_along(value)) {
    row <- nn_read_numbers(value[[number]], field, row = number)
    if (length(row) != length(value[[1]])) {
      nn_input_error(field, sprintf(
        "row %d has %d numbers, but row 1 has %d; every row must have the same length",
        number, length(row), length(value[[1]])
      ))
    }
  }
  matrix(as.numeric(unlist(value)), nrow = length(value), byrow = TRUE)
}

# A non-empty JSON array of finite numbers (row `row` of a matrix), as a numeric vector.
nn_read_numbers <- function(value, field, row = NULL) {
  container <- if (is.null(row)) "" else sprintf("row %d ", row)
  if (!is.list(value) || !is.null(names(value)) || length(value) == 0) {
    nn_input_error(field, paste0(container, "must be a non-empty array of numbers"))
  }
  for (position in seq_along(value)) {
    number <- value[[position]]
    where <- if (is.null(row)) {
      sprintf("entry %d", position)
    } else {
      sprintf("row %d, column %d", row, position)
    }
    if (!nn_is_number(number)) {
      nn_input_error(field, paste0(where, " is ", nn_describe(number), ", not a number"))
    }
    if (!is.finite(number)) {
      nn_input_error(field, paste0(where, " is not finite; NaN and Infinity are refused"))
    }
  }
  as.numeric(unlist(value))
}

#' Write a fixture so that every double reads back exactly, in R and in Python.
#'
#' The fixture is checked first; on any error nothing is written. The file is
#' written beside path under a temporary name, then renamed over it, so a failed
#' write never leaves a half-written file.
#' @param fixture list(name, description, X, y, layers, lr, epochs).
#' @param path the file.
nn_save_fixture <- function(fixture, path) {
  nn_check_training(fixture$layers, fixture$X, fixture$y, fixture$lr, fixture$epochs)
  layers <- paste(vapply(fixture$layers, function(layer) {
    paste0(
      "    {\n",
      '      "weights": ', nn_json_matrix(layer$weights, "      "), ",\n",
      '      "bias": ', nn_json_row(nn_format_number(layer$bias)), ",\n",
      '      "activation": ', nn_json_string(layer$activation), "\n",
      "    }"
    )
  }, character(1)), collapse = ",\n")
  text <- paste0(
    "{\n",
    '  "format": ', nn_json_string(nn_fixture_format), ",\n",
    '  "name": ', nn_json_string(fixture$name), ",\n",
    '  "description": ', nn_json_string(fixture$description), ",\n",
    '  "X": ', nn_json_matrix(fixture$X, "  "), ",\n",
    '  "y": ', nn_json_matrix(fixture$y, "  "), ",\n",
    '  "layers": [\n', layers, "\n  ],\n",
    '  "lr": ', nn_format_number(fixture$lr), ",\n",
    '  "epochs": ', sprintf("%d", as.integer(fixture$epochs)), "\n",
    "}\n"
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
  # Format every number in one call: nn_format_number reads them all back at once.
  numbers <- matrix(nn_format_number(as.vector(matrix)), nrow = nrow(matrix))
  rows <- paste0(indent, "  ", apply(numbers, 1, nn_json_row), collapse = ",\n")
  paste0("[\n", rows, "\n", indent, "]")
}

#' Write text to a temporary file beside path, then rename it to path.
#' @param path the file.
#' @param text one string.
nn_write_atomically <- function(path, text) {
  temporary <- tempfile(paste0(".", basename(path), "."), tmpdir = dirname(path), fileext = ".tmp")
  on.exit(unlink(temporary))
  writeBin(charToRaw(enc2utf8(text)), temporary)
  if (!file.rename(temporary, path)) {
    stop(sprintf("%s: cannot be written (renaming %s failed)", path, temporary), call. = FALSE)
  }
}
