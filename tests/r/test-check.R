# The grader in R alone: nn_check_trace and nn_check_step, on the student-style loop of
# examples/ with each mistake of tests/mistakes.json planted, on nnscratch's own numbers,
# on the conformance data and on tables it must refuse.

plants <- jsonlite::fromJSON(file.path(nn_root, "tests", "mistakes.json"),
                             simplifyVector = FALSE)$mistakes
article_path <- file.path(nn_root, "fixtures", "article.json")

# examples/article_loop.R with a mistake planted (or none), in an environment of its own.
r_loop <- function(case = NULL) {
  path <- file.path(nn_root, "examples", "article_loop.R")
  text <- readChar(path, file.size(path), useBytes = TRUE)
  for (edit in case$r) {
    stopifnot(lengths(regmatches(text, gregexpr(edit[[1]], text, fixed = TRUE))) == 1)
    text <- sub(edit[[1]], edit[[2]], text, fixed = TRUE)
  }
  environment <- new.env()
  eval(parse(text = text), envir = environment)
  environment
}

where <- function(d) list(d$epoch, d$iteration, d$step, d$name, d$layer)

test_that("the catalogue's ids are the issue's, in its order", {
  expect_identical(nn_mistakes$id, c(
    "bias-per-sample", "bias-by-column", "lr-twice", "hidden-bias-output-delta",
    "slope-from-input", "sign-flipped", "update-before-backprop", "mean-not-sum",
    "no-lr-on-bias", "missing-bias-update"
  ))
  expect_identical(vapply(plants, `[[`, "", "id"), nn_mistakes$id)
})

test_that("each mistake planted in the R loop is named at its step, from CSV and function", {
  for (case in plants) {
    loop <- r_loop(case)
    path <- tempfile(fileext = ".csv")
    loop$main(article_path, path, 3)
    expected <- list(1, 1, case$step, case$quantity, case$layer)
    answer <- nn_check_trace(article_path, path)
    expect_equal(where(answer$divergence), expected, label = case$id)
    expect_identical(answer$diagnosis, case$id)
    expect_match(format(answer), paste0("looks like ", case$id, ": "), fixed = TRUE)
    driven <- nn_check_step(article_path, loop$one_iteration, epochs = 3)
    expect_equal(where(driven$divergence), where(answer$divergence), label = case$id)
    expect_identical(driven$diagnosis, case$id)
  }
})

test_that("the R loop as it is agrees, from the CSV and the function", {
  loop <- r_loop()
  path <- tempfile(fileext = ".csv")
  loop$main(article_path, path, 12)
  answer <- nn_check_trace(article_path, path)
  expect_true(answer$ok)
  # Per epoch: 60 numbers per sample, wh 12, wout 3, and the biases one row per sample, 9 + 3.
  expect_equal(answer$numbers, 12 * (60 + 12 + 3 + 12))
  expect_match(format(answer), "bh has one row per sample", fixed = TRUE)
  expect_true(nn_check_step(article_path, loop$one_iteration, epochs = 12)$ok)
})

test_that("nnscratch's own numbers agree, as a table, and a change is found where it is", {
  fixture <- nn_load_fixture(file.path(nn_root, "fixtures", "minibatch.json"))
  fixture$epochs <- 9
  table <- nn_trace_table(nn_train_fixture(fixture, trace = TRUE)$trace)
  expect_true(nn_check_trace(fixture, table)$ok)
  # The smaller last batch of epoch 5: its second sample's delta in layer 1, unit 3.
  at <- which(table$epoch == 5 & table$iteration == 3 & table$quantity == "delta" &
                table$layer == 1 & table$row == 2 & table$col == 3)
  expect_length(at, 1)
  changed <- table
  changed$value[at] <- table$value[at] * (1 + 1e-6)
  answer <- nn_check_trace(fixture, changed)
  expect_equal(where(answer$divergence), list(5, 3, 9, "delta", 1))
  expect_equal(c(answer$divergence$row, answer$divergence$col), c(2, 3))
  expect_identical(answer$divergence$expected, table$value[at])
  expect_equal(answer$iterations_before, 4 * 3 + 2)
  changed$value[at] <- table$value[at] * (1 + 2 * .Machine$double.eps)
  expect_true(nn_check_trace(fixture, changed)$ok)
})

test_that("nn_step is a correct one-iteration function", {
  for (name in c("two_hidden", "sgd")) {
    fixture <- nn_load_fixture(file.path(nn_root, "fixtures", paste0(name, ".json")))
    answer <- nn_check_step(fixture, function(layers, X, y, lr) nn_step(layers, X, y, lr),
                            epochs = 6)
    expect_true(answer$ok, label = name)
  }
})

test_that("the conformance data are what R computes", {
  paths <- Sys.glob(file.path(nn_root, "conformance", "*.csv"))
  names <- sub("\\.csv$", "", basename(paths[!grepl("-loss\\.csv$", paths)]))
  expect_true(all(c("article", "article_no_bias", "two_hidden", "minibatch", "xor") %in% names))
  for (name in names) {
    fixture <- nn_load_fixture(file.path(nn_root, "fixtures", paste0(name, ".json")))
    answer <- nn_check_trace(fixture, file.path(nn_root, "conformance", paste0(name, ".csv")))
    expect_true(answer$ok, label = name)
    expect_equal(answer$epochs, c(1, fixture$epochs))
    loss <- utils::read.csv(file.path(nn_root, "conformance", paste0(name, "-loss.csv")),
                            colClasses = "character")
    expect_identical(names(loss), c("epoch", "loss"))
    expected <- jsonlite::fromJSON(paste0("[", paste(loss$loss, collapse = ","), "]"))
    computed <- nn_train_fixture(fixture)$loss
    tolerance <- 1e-12 + 1e-12 * abs(expected) # as tests/test_check.py holds Python to
    expect_true(all(abs(computed - expected) <= tolerance), label = name)
  }
})

test_that("a table it cannot read is refused with one line naming the line and column", {
  cases <- jsonlite::fromJSON(file.path(nn_root, "tests", "bad_traces", "cases.json"),
                              simplifyVector = FALSE)$cases
  for (case in cases) {
    path <- tempfile(fileext = ".csv")
    writeBin(charToRaw(enc2utf8(case$csv)), path)
    fixture <- file.path(nn_root, "fixtures", paste0(case$fixture, ".json"))
    error <- tryCatch(nn_check_trace(fixture, path), nnscratch_input_error = function(e) e)
    expect_s3_class(error, "nnscratch_fixture_error")
    expect_identical(conditionMessage(error), paste0(path, ": ", case$message), label = case$name)
  }
})
