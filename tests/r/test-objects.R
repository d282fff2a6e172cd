# Results, fixtures and traces as R users expect them: classes with print, summary, plot
# and predict methods; a data.frame X and a factor y; plots on the current device.
# tests/test_objects.py checks that Python shows the same lines.

test_that("a trained network, a fixture and a trace print in a few lines", {
  f <- nn_article()
  result <- nn_train_fixture(f, trace = TRUE)
  # The losses as the article's own loop, written out in the helper, gives them.
  losses <- reference_article_loop(f)$losses
  expect_s3_class(result, "nn_result")
  expect_identical(capture.output(print(result)), c(
    "Trained network 4 -> 3 sigmoid -> 1 sigmoid",
    sprintf("loss %.6g in epoch 1, %.6g in epoch 5000", losses[1], losses[5000]),
    "traced iterations: 5000"
  ))
  expect_s3_class(f, "nn_fixture")
  expect_identical(capture.output(print(f)), c(
    "Fixture article: X 3 x 4, y 3 x 1",
    "network 4 -> 3 sigmoid -> 1 sigmoid; lr 0.1, epochs 5000, full batch",
    "The article's example"
  ))
  expect_s3_class(result$trace, "nn_trace")
  expect_identical(capture.output(print(result$trace)), c(
    "Trace of iterations 1 to 5000: epochs 1 to 5000, 1 per epoch",
    "layer 1: layer_input, activation, slope, error_at_layer, delta, weights, bias",
    "layer 2: layer_input, activation, error, slope, delta, weights, bias"
  ))
})

test_that("print says what a shuffled fixture and an untrained network are", {
  f <- nn_load_fixture("minibatch")
  expect_identical(format(f)[2], paste(
    "network 2 -> 4 sigmoid -> 1 sigmoid; lr 0.5, epochs 300, batches of 4, shuffled",
    "(seed 2024)"
  ))
  result <- nn_train(f$layers, f$X, f$y, f$lr, 0)
  expect_identical(format(result)[2:3], c("no epochs: the layers are the initial ones", "no trace"))
  traced <- nn_train_fixture(f, trace = TRUE, trace_every = 100)
  expect_identical(format(traced$trace)[1],
                   "Trace of iterations 1 to 9: epochs 100 to 300, 3 per epoch")
})

test_that("summary gives a data.frame: per layer, per column, per quantity", {
  f <- nn_article()
  result <- nn_train_fixture(f, trace = TRUE, trace_every = 1000)
  layers <- summary(result)
  expect_identical(layers[c("layer", "inputs", "units", "activation", "bias")], data.frame(
    layer = 1:2, inputs = c(4L, 3L), units = c(3L, 1L), activation = "sigmoid", bias = TRUE
  ))
  expect_identical(layers$largest_weight, vapply(result$layers, function(l) max(l$weights), 1))
  expect_identical(summary(f)$column, c("X[, 1]", "X[, 2]", "X[, 3]", "X[, 4]", "y[, 1]"))
  expect_identical(summary(f)$mean, c(2, 1, 2, 2, 2) / 3) # the article's X and y, by hand
  quantities <- summary(result$trace)
  expect_identical(quantities[c("step", "layer", "quantity")],
                   nn_trace_quantities(result$trace)[c("step", "layer", "quantity")])
  weights <- quantities[quantities$quantity == "weights" & quantities$layer == 2, ]
  expect_identical(c(weights$rows, weights$cols), c(3L, 1L))
  expect_identical(weights$largest, max(result$trace$layers[[2]]$weights))
})

test_that("predict gives the output or the classes for new data, a data.frame too", {
  f <- nn_load_fixture("blobs")
  f$epochs <- 200L
  result <- nn_train_fixture(f)
  new <- f$X[c(1, 60, 120), ]
  expect_identical(predict(result, new), nn_predict(result$layers, new))
  expect_identical(predict(result, as.data.frame(new), type = "class"),
                   nn_predict_class(result$layers, new))
})

test_that("a data.frame X and a factor y train as the matrix and its one-hot y", {
  iris <- datasets::iris
  layers <- nn_init_layers(c(4, 5, 3), c("tanh", "sigmoid"), 3, method = "glorot")
  as_data <- nn_train(layers, iris[1:4], iris$Species, 0.01, 20)
  y <- cbind(setosa = iris$Species == "setosa", versicolor = iris$Species == "versicolor",
             virginica = iris$Species == "virginica") * 1
  as_matrices <- nn_train(layers, as.matrix(iris[1:4]), y, 0.01, 20)
  expect_identical(as_data$loss, as_matrices$loss)
  expect_identical(nn_one_hot(iris$Species), y)
  error <- expect_error(nn_train(layers, iris, y, 0.01, 20), class = "nnscratch_input_error")
  expect_identical(conditionMessage(error), paste(
    "X: column 'Species' is not numeric; X takes numbers only (classes go in y, one-hot)"
  ))
})

test_that("nn_one_hot sorts the classes, or takes them in the order given", {
  expect_identical(nn_one_hot(c("b", "a", "B")),
                   matrix(c(0, 0, 1, 0, 1, 0, 1, 0, 0), 3, dimnames = list(NULL, c("B", "a", "b"))))
  expect_identical(nn_one_hot(c(2, 0, 2), classes = c(2, 0, 1)),
                   matrix(c(1, 0, 1, 0, 1, 0, 0, 0, 0), 3, dimnames = list(NULL, c("2", "0", "1"))))
  error <- expect_error(nn_one_hot(c("a", "c"), classes = c("a", "b")))
  expect_identical(conditionMessage(error),
                   "y: sample 2 is of class 'c', which is not one of the classes (a, b)")
})

test_that("plots draw on the current device, and leave its settings as they were", {
  f <- nn_load_fixture("moons")
  f$epochs <- 20L
  result <- nn_train_fixture(f, trace = TRUE)
  path <- tempfile(fileext = ".pdf")
  grDevices::pdf(path, width = 11, height = 4.5) # the PNG's size: room for three panels
  old <- graphics::par("mfrow")
  drawn <- list(
    nn_plot_training = function() nn_plot_training(result, f),
    result = function() plot(result), with_fixture = function() plot(result, f),
    fixture = function() plot(f), iris = function() plot(nn_load_fixture("iris")),
    trace = function() plot(result$trace),
    weights = function() plot(result$trace, "weights", 1)
  )
  for (what in names(drawn)) {
    graphics::plot.new() # a page of its own, so that each drawing starts one
    before <- grDevices::recordPlot()
    drawn[[what]]()
    expect_false(identical(grDevices::recordPlot(), before), label = what)
    expect_identical(graphics::par("mfrow"), old, label = what)
  }
  grDevices::dev.off()
  expect_error(plot(result$trace, "error_at_layer", 2),
               "quantity: this trace holds no 'error_at_layer' for layer 2")
})

test_that("sourced, r/nnscratch.R leaves in the global environment only what it exports", {
  skip_if_not(nn_in_checkout, "a file of the checkout")
  path <- file.path(nn_root, "r", "nnscratch.R")
  rscript <- function(code) {
    system2(file.path(R.home("bin"), "Rscript"), c("-e", shQuote(code)), stdout = TRUE)
  }
  trained <- 'print(nn_train_fixture(nn_load_fixture("xor")))'
  global <- rscript(sprintf('source("%s"); cat(ls(), sep = "\\n"); %s', path, trained))
  expect_true(all(c("nn_train", "nn_load_fixture", "nn_one_hot") %in% global))
  expect_false(any(c("nn_check_whole", "nn_read_matrix", "nn_sourced_from") %in% global))
  # print finds the method: the package's classes print as themselves.
  expect_identical(utils::tail(global, 3)[1], "Trained network 2 -> 3 sigmoid -> 1 sigmoid")
  # Sourced into an environment of its own, the helpers stay there, the methods are found.
  apart <- rscript(sprintf(paste(
    'nn <- new.env(); source("%s", local = nn);',
    'print(nn$nn_train_fixture(nn$nn_load_fixture("xor")))'
  ), path))
  expect_identical(apart[1], "Trained network 2 -> 3 sigmoid -> 1 sigmoid")
})
