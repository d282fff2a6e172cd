# A network written from scratch in the manner of the article, checked with nnscratch.
#
#   Rscript examples/article_loop.R fixtures/article.json mine.csv [EPOCHS]
#   Rscript r/cli.R check fixtures/article.json mine.csv
#
# One hidden layer of sigmoid units with bias, full-batch gradient descent, the article's
# steps and variable names, its biases kept as its R listing keeps them: one row per
# sample. It starts from the fixture's initial weights, so that its run can be compared
# with nnscratch's, and writes every number of every epoch with write.csv as the long
# table nnscratch reads: epoch, iteration, quantity, row, col, value (the article's names
# imply the layers). It needs jsonlite alone: nnscratch does the checking.

sigmoid <- function(x) {
  1 / (1 + exp(-x))
}

# The slope of the sigmoid, written from its output x = sigmoid(z).
derivatives_sigmoid <- function(x) {
  x * (1 - x)
}

# A vector as a matrix of n equal rows.
rows_of <- function(v, n) {
  matrix(v, nrow = n, ncol = length(v), byrow = TRUE)
}

# One epoch of the article's eleven steps; every matrix it makes, by the article's names.
one_iteration <- function(X, y, wh, bh, wout, bout, lr) {
  # The biases, one row per sample: given one row, repeat it.
  if (nrow(bh) == 1) bh <- matrix(rep(bh, nrow(X)), nrow = nrow(X), byrow = TRUE)
  if (nrow(bout) == 1) bout <- matrix(rep(bout, nrow(X)), nrow = nrow(X), byrow = TRUE)
  # Forward propagation: steps 2 to 4.
  hidden_layer_input <- X %*% wh + bh
  hidden_layer_activations <- sigmoid(hidden_layer_input)
  output_layer_input <- hidden_layer_activations %*% wout + bout
  output <- sigmoid(output_layer_input)
  # Backpropagation: steps 5 to 9.
  E <- y - output
  slope_output_layer <- derivatives_sigmoid(output)
  slope_hidden_layer <- derivatives_sigmoid(hidden_layer_activations)
  d_output <- E * slope_output_layer
  Error_at_hidden_layer <- d_output %*% t(wout) # nolint: object_name_linter. The article's.
  d_hiddenlayer <- Error_at_hidden_layer * slope_hidden_layer
  # Updates: steps 10 and 11.
  wout <- wout + (t(hidden_layer_activations) %*% d_output) * lr
  bout <- bout + rows_of(colSums(d_output), nrow(X)) * lr
  wh <- wh + (t(X) %*% d_hiddenlayer) * lr
  bh <- bh + rows_of(colSums(d_hiddenlayer), nrow(X)) * lr
  list(
    hidden_layer_input = hidden_layer_input, hidden_layer_activations = hidden_layer_activations,
    output_layer_input = output_layer_input, output = output, E = E,
    slope_hidden_layer = slope_hidden_layer, slope_output_layer = slope_output_layer,
    d_output = d_output, Error_at_hidden_layer = Error_at_hidden_layer,
    d_hiddenlayer = d_hiddenlayer, wh = wh, bh = bh, wout = wout, bout = bout
  )
}

main <- function(fixture_path, csv_path, epochs = NULL) {
  fixture <- jsonlite::fromJSON(fixture_path)
  X <- fixture$X
  y <- fixture$y
  wh <- fixture$layers$weights[[1]]
  bh <- matrix(fixture$layers$bias[[1]], nrow = 1)
  wout <- fixture$layers$weights[[2]]
  bout <- matrix(fixture$layers$bias[[2]], nrow = 1)
  lr <- fixture$lr
  if (is.null(epochs)) epochs <- fixture$epochs
  quantity <- row <- col <- value <- vector("list", epochs)
  for (epoch in seq_len(epochs)) {
    numbers <- one_iteration(X, y, wh, bh, wout, bout, lr)
    wh <- numbers$wh
    bh <- numbers$bh
    wout <- numbers$wout
    bout <- numbers$bout
    quantity[[epoch]] <- rep(names(numbers), lengths(numbers))
    row[[epoch]] <- unlist(lapply(numbers, row))
    col[[epoch]] <- unlist(lapply(numbers, col))
    value[[epoch]] <- unlist(numbers)
  }
  table <- data.frame(epoch = rep(seq_len(epochs), lengths(value)), iteration = 1,
                      quantity = unlist(quantity), row = unlist(row), col = unlist(col),
                      value = unlist(value))
  write.csv(table, csv_path, row.names = FALSE)
}

if (sys.nframe() == 0) {
  arguments <- commandArgs(trailingOnly = TRUE)
  main(arguments[1], arguments[2], if (length(arguments) > 2) as.integer(arguments[3]))
}
