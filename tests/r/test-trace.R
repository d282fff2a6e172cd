# The trace's steps and its long table.

test_that("trace steps follow the order of the training loop", {
  one <- nn_trace_steps(1)
  expect_identical(one$quantity, c("samples", "layer_input", "activation", "error", "loss",
                                   "slope", "delta", "weights", "bias"))
  expect_identical(one$step, c(0L, 4L, 4L, 5L, 5L, 6L, 7L, 10L, 11L))
  expect_identical(one$layer, c(0L, 1L, 1L, 1L, 1L, 1L, 1L, 1L, 1L))
  three <- nn_trace_steps(3)
  backward <- three[three$step %in% 7:9, ]
  expect_identical(paste(backward$layer, backward$quantity),
                   c("3 delta", "2 error_at_layer", "2 delta", "1 error_at_layer", "1 delta"))
  expect_identical(three$step[2:7], c(2L, 3L, 2L, 3L, 4L, 4L))
})

test_that("the trace table has one row per number, 1-based, in reading order", {
  fixture <- nn_load_fixture("two_hidden")
  trace <- nn_train(fixture$layers, fixture$X, fixture$y, fixture$lr, 3, trace = TRUE)$trace
  table <- nn_trace_table(trace)
  expect_identical(names(table),
                   c("epoch", "iteration", "step", "layer", "quantity", "row", "col", "value"))
  arrays <- unlist(trace$layers, recursive = FALSE)
  per_epoch <- 3 + 1 + sum(vapply(arrays, function(a) length(a[1, , ]), 1))
  expect_equal(nrow(table), 3 * per_epoch)
  expect_identical(table$epoch, rep(1:3, each = per_epoch))
  expect_identical(unique(table$iteration), 1L)
  expect_identical(table$value[table$quantity == "samples"], rep(c(1, 2, 3), 3))
  set.seed(1)
  for (i in sample(nrow(table), 200)) {
    row <- table[i, ]
    if (row$quantity == "samples") next
    value <- if (row$quantity == "loss") {
      trace$loss[row$epoch]
    } else {
      trace$layers[[row$layer]][[row$quantity]][row$epoch, row$row, row$col]
    }
    expect_identical(row$value, value)
  }
  weights <- table[table$epoch == 2 & table$layer == 1 & table$quantity == "weights", ]
  expect_identical(weights$row[1:4], c(1L, 1L, 1L, 2L))
  expect_identical(weights$col[1:4], c(1L, 2L, 3L, 1L))
  expect_identical(weights$value, as.vector(t(trace$layers[[1]]$weights[2, , ])))
})

test_that("the trace CSV is the long table, to the bit, and the same run twice the same bytes", {
  f <- nn_load_fixture("minibatch")
  f$epochs <- 20L
  trace <- nn_train_fixture(f, trace = TRUE)$trace
  path <- tempfile(fileext = ".csv")
  nn_write_trace_csv(trace, path)
  read <- utils::read.csv(path, colClasses = c(rep("integer", 4), "character",
                                               rep("integer", 2), "numeric"))
  expect_identical(read, nn_trace_table(trace))
  again <- tempfile(fileext = ".csv")
  nn_write_trace_csv(nn_train_fixture(f, trace = TRUE)$trace, again)
  expect_identical(readBin(again, "raw", file.size(again)), readBin(path, "raw", file.size(path)))
})
