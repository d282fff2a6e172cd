# Bounded traces: every k-th epoch, some quantities, a size limit checked before the run.

test_that("every k-th epoch and some quantities", {
  f <- nn_load_fixture("minibatch")
  every <- nn_train_fixture(f, trace = TRUE, trace_every = 7)$trace
  expect_identical(every$epoch[1:6], c(7L, 7L, 7L, 14L, 14L, 14L))
  expect_length(every$loss, 300 %/% 7 * 3)
  full <- nn_train_fixture(f, trace = TRUE)$trace
  expect_identical(every$loss, full$loss[full$epoch %% 7 == 0])
  some <- nn_train_fixture(f, trace = TRUE, trace_quantities = c("weights", "delta"))$trace
  expect_identical(lapply(some$layers, names), list(c("delta", "weights"), c("delta", "weights")))
})

test_that("the estimate is the size of the trace", {
  f <- nn_load_fixture("minibatch")
  trace <- nn_train_fixture(f, trace = TRUE, trace_every = 7)$trace
  numbers <- length(trace$samples) + length(trace$loss) + length(unlist(trace$layers))
  expect_equal(nn_trace_bytes(f$layers, 4, length(trace$loss)), 8 * numbers)
})

test_that("a trace over the limit is refused before the run", {
  f <- nn_load_fixture("moons")
  f$epochs <- 10000
  called <- FALSE
  expect_error(
    nn_train_fixture(f, trace = TRUE, progress = function(...) called <<- TRUE),
    "trace: would take about 4514 MB, over the limit of 1000 MB (trace_limit)", fixed = TRUE
  )
  expect_false(called)
  expect_error(nn_train_fixture(f, trace = TRUE, trace_every = 0),
               "trace_every: must be a whole number, 1 or more; got 0.0", fixed = TRUE)
})
