# nn_explain_html: the walkthrough page (pytest checks that Python writes the same page,
# and clicks through both in headless Chromium).

page_data <- function(path) {
  text <- readChar(path, file.size(path), useBytes = TRUE)
  json <- regmatches(text, regexpr('id="data">.*?</script>', text))
  jsonlite::fromJSON(sub("</script>$", "", sub('^id="data">', "", json)), simplifyVector = FALSE)
}

test_that("the page keeps the documented sample of iterations", {
  expect_identical(nn_page_iterations(5000),
                   as.integer(c(1:10, 20, 50, 100, 200, 500, 1000, 2000, 5000)))
  expect_identical(nn_page_iterations(7), 1:7)
  expect_identical(nn_page_iterations(30), as.integer(c(1:10, 20, 30)))
})

test_that("the article's page holds the trace's numbers, under 1 MB, asking for no file", {
  f <- nn_article()
  path <- tempfile(fileext = ".html")
  nn_explain_html(f, path)
  expect_lt(file.size(path), 1e6)
  text <- readChar(path, file.size(path), useBytes = TRUE)
  text <- gsub('"http://www.w3.org/2000/svg"', "", text, fixed = TRUE) # a name, not an address
  for (reference in c("http:", "https:", "src=", "url(", "@import", "<link")) {
    expect_false(grepl(reference, text, fixed = TRUE), label = reference)
  }
  data <- page_data(path)
  kept <- vapply(data$iterations, function(it) it$iteration, 1)
  expect_identical(kept, c(1:10, 20, 50, 100, 200, 500, 1000, 2000, 5000))
  expect_length(data$loss, 5000)
  # Iteration 3, step 7: the output layer's delta, as the trace has it.
  f$epochs <- 3
  trace <- nn_train_fixture(f, trace = TRUE)$trace
  step_7 <- Filter(function(step) step$step == 7, data$iterations[[3]]$steps)[[1]]
  shown <- unlist(step_7$matrices[[1]]$values)
  expect_identical(step_7$matrices[[1]]$name, "D2")
  expect_equal(shown, trace$layers[[2]]$delta[3, , 1], tolerance = 1e-12)
})

test_that("bad arguments name the field, as in Python, and write nothing", {
  path <- tempfile(fileext = ".html")
  expect_error(nn_explain_html(nn_article(), path, epoch = 5001),
               "epoch: must be a whole number, from 1 to 5000; got 5001.0", fixed = TRUE)
  expect_error(nn_explain_html(nn_article(), path, iterations = c(3, 0)),
               "iterations: must be a whole number, from 1 to 5000; got 0.0", fixed = TRUE)
  expect_false(file.exists(path))
})
