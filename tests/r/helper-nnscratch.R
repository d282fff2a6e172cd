# Loaded by testthat before the tests: the R implementation and shared test data. The
# tests run in the checkout (make test: tests/r, with r/nnscratch.R sourced here, into the
# tests' environment) and in the R package (R CMD check: tests/testthat, with the
# installed package's namespace around them). nn_root holds the checkout's files that
# the tests read: the checkout, or in the package the copy of them that make r-package
# puts in tests/checkout.
nn_root <- normalizePath(testthat::test_path("..", ".."))
nn_in_checkout <- file.exists(file.path(nn_root, "r", "nnscratch.R"))
if (nn_in_checkout) {
  source(file.path(nn_root, "r", "nnscratch.R"), local = TRUE)
} else {
  nn_root <- normalizePath(testthat::test_path("..", "checkout"))
}

nn_fixture_paths <- file.path(nn_fixture_folder(), paste0(nn_list_fixtures(), ".json"))

nn_article <- function() nn_load_fixture("article")

# Make value the object called name that nnscratch's own functions see, and return the one
# it replaces. They live in the tests' environment in the checkout, and in the package's
# namespace (its bindings locked) under R CMD check, where testthat's copy of it, in which
# the tests run, would not reach them.
nn_replace <- function(name, value) {
  home <- environment(nn_train)
  old <- get(name, envir = home)
  if (bindingIsLocked(name, home)) {
    unlockBinding(name, home)
    on.exit(lockBinding(name, home))
  }
  assign(name, value, envir = home)
  old
}

# An independent reference: the article's two-layer loop written out with its variable
# names, nothing of nnscratch's. Returns the loss of every epoch (mean((y - output)^2) / 2,
# before the update) and the trained network's output.
reference_article_loop <- function(fixture, epochs = fixture$epochs) {
  X <- fixture$X
  y <- fixture$y
  lr <- fixture$lr
  wh <- fixture$layers[[1]]$weights
  bh <- fixture$layers[[1]]$bias
  wout <- fixture$layers[[2]]$weights
  bout <- fixture$layers[[2]]$bias
  sigmoid <- function(x) 1 / (1 + exp(-x))
  forward <- function(X, wh, bh) sigmoid(X %*% wh + matrix(bh, nrow(X), length(bh), byrow = TRUE))
  losses <- numeric(epochs)
  for (epoch in seq_len(epochs)) {
    hiddenlayer_activations <- forward(X, wh, bh)
    output <- forward(hiddenlayer_activations, wout, bout)
    E <- y - output
    losses[epoch] <- mean(E^2) / 2
    slope_output_layer <- output * (1 - output)
    slope_hidden_layer <- hiddenlayer_activations * (1 - hiddenlayer_activations)
    d_output <- E * slope_output_layer
    Error_at_hidden_layer <- d_output %*% t(wout) # nolint: object_name_linter. The article's.
    d_hiddenlayer <- Error_at_hidden_layer * slope_hidden_layer
    wout <- wout + (t(hiddenlayer_activations) %*% d_output) * lr
    bout <- bout + colSums(d_output) * lr
    wh <- wh + (t(X) %*% d_hiddenlayer) * lr
    bh <- bh + colSums(d_hiddenlayer) * lr
  }
  list(losses = losses, output = forward(forward(X, wh, bh), wout, bout))
}

# Every setting equal and every double identical to the bit (so -0 differs from 0).
expect_same_fixture <- function(a, b) {
  settings <- c("name", "description", "lr", "epochs", "batch_size", "shuffle", "seed", "expected")
  setting <- function(f) lapply(settings, function(key) f[[key]])
  testthat::expect_identical(setting(a), setting(b))
  testthat::expect_identical(a$X, b$X)
  testthat::expect_identical(a$y, b$y)
  testthat::expect_identical(a$layers, b$layers)
  testthat::expect_identical(sign(1 / a$X), sign(1 / b$X))
}

# base.json with the edits of one case of tests/bad_fixtures/cases.json applied.
nn_bad_fixture_text <- function(case) {
  path <- file.path(nn_root, "tests", "bad_fixtures", "base.json")
  text <- readChar(path, file.size(path), useBytes = TRUE)
  for (edit in case$edits) {
    stopifnot(grepl(edit[[1]], text, fixed = TRUE))
    text <- sub(edit[[1]], edit[[2]], text, fixed = TRUE)
  }
  text
}

nn_bad_cases <- jsonlite::fromJSON(
  file.path(nn_root, "tests", "bad_fixtures", "cases.json"), simplifyVector = FALSE
)$cases
