# The article's R loop, its operations written out as the benchmark's baseline (its
# errata kept: the bias matrices of one row per sample, the rowSums update), and timing
# helpers.
# bench/bench.py sources this file into the R session it drives.

article_loop <- function(X, y, w_hidden, b_hidden, w_out, b_out, lr, epochs) {
  # As the article does: the biases as matrices of one row per sample.
  b_hidden <- matrix(rep(b_hidden, nrow(X)), nrow = nrow(X), byrow = TRUE)
  b_out <- matrix(rep(b_out, nrow(X)), nrow = nrow(X), byrow = TRUE)
  sigmoid <- function(z) 1 / (1 + exp(-z))
  sigmoid_slope <- function(a) a * (1 - a)
  for (epoch in seq_len(epochs)) {
    hidden <- sigmoid(X %*% w_hidden + b_hidden)
    output <- sigmoid(hidden %*% w_out + b_out)
    error <- y - output
    delta_out <- error * sigmoid_slope(output)
    delta_hidden <- (delta_out %*% t(w_out)) * sigmoid_slope(hidden)
    w_out <- w_out + (t(hidden) %*% delta_out) * lr
    b_out <- b_out + rowSums(delta_out) * lr
    w_hidden <- w_hidden + (t(X) %*% delta_hidden) * lr
    b_hidden <- b_hidden + rowSums(delta_hidden) * lr
  }
  list(w_hidden = w_hidden, w_out = w_out)
}

# Seconds of each of `repeats` runs of `run()`, the two runs interleaved: the same load
# of a noisy machine falls on both.
time_pair <- function(first, second, repeats) {
  times <- matrix(0, repeats, 2)
  for (i in seq_len(repeats)) {
    times[i, 1] <- system.time(first())[["elapsed"]]
    times[i, 2] <- system.time(second())[["elapsed"]]
  }
  times
}

time_r_against_article <- function(layers, X, y, lr, epochs, repeats) {
  time_pair(
    function() nn_train(layers, X, y, lr, epochs),
    function() article_loop(X, y, layers[[1]]$weights, layers[[1]]$bias, layers[[2]]$weights,
                            layers[[2]]$bias, lr, epochs),
    repeats
  )
}

time_r_trace <- function(layers, X, y, lr, epochs, repeats) {
  time_pair(
    function() nn_train(layers, X, y, lr, epochs, trace = TRUE),
    function() nn_train(layers, X, y, lr, epochs),
    repeats
  )
}

# Peak resident memory of this R process, in MB (Linux).
peak_memory_mb <- function() {
  status <- readLines("/proc/self/status")
  as.numeric(sub("[^0-9]*([0-9]+).*", "\\1", grep("^VmHWM", status, value = TRUE))) / 1024
}
