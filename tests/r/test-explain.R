# nn_explain: the eleven steps as text (the same text as Python's, checked by pytest).

test_that("every step appears once, in order, with its matrix", {
  text <- nn_explain(nn_article())
  steps <- as.integer(sub("^Step ([0-9]+)\\..*", "\\1", grep("^Step", strsplit(text, "\n")[[1]],
                                                             value = TRUE)))
  expect_identical(steps, c(0L, 1L, 2L, 3L, 4L, 4L, 5L, 6L, 6L, 7L, 8L, 9L, 10L, 11L, 10L, 11L))
  expect_true(startsWith(text, "Epoch 1, iteration 1 of 1, of article (3 samples, lr 0.1)"))
  result <- nn_train_fixture(nn_article())
  expect_true(grepl(
    "the output (activation; the article's output).\nA2 (3 x 1)\n  0.872\n  0.883\n  0.870\n",
    text, fixed = TRUE
  ))
  expect_true(grepl(sprintf("loss (1 x 1)\n  %.3f\n", result$loss[1]), text, fixed = TRUE))
})

test_that("matrix and elementwise products are written apart, with the article's names", {
  # Written by hand from the article's steps (its matrix_dot_product is @ here); Python's
  # test checks every step, and pytest checks that both languages print the same text.
  text <- nn_explain(nn_article())
  expected <- c(
    "Z1 = A0 @ W1 + b1 (layer_input; the article's hidden_layer_input)",
    "S1 = A1 * (1 - A1) (slope; the article's slope_hidden_layer)",
    "H1 = D2 @ W2^T, with the weights from before this update",
    "W2 = W2 + 0.1 * A1^T @ D2 (weights; the article's wout)",
    "@ is the matrix product, * multiplies element by element, ^T transposes."
  )
  expect_identical(expected[!vapply(expected, grepl, NA, text, fixed = TRUE)], character())
})

test_that("a network without bias is explained without one", {
  f <- nn_load_fixture("article_no_bias")
  text <- nn_explain(f)
  expect_false(grepl("b1", text, fixed = TRUE))
  expect_true(grepl("Z1 = A0 @ W1 (layer_input", text, fixed = TRUE))
  expect_false(grepl("Step 11.", text, fixed = TRUE))
})

test_that("bad arguments name the field, as in Python", {
  f <- nn_load_fixture("minibatch")
  expect_error(nn_explain(f, iteration = 4),
               "iteration: must be a whole number, from 1 to 3; got 4.0", fixed = TRUE)
  expect_error(nn_explain(f, epoch = 0), "epoch: must be a whole number, 1 or more; got 0.0",
               fixed = TRUE)
})
