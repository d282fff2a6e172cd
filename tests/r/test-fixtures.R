# Fixtures in R: exact round trips and refused files.

hard_values <- c(0.1 + 0.2, 1 / 3, 2^-1074, 2.2250738585072014e-308, 1.7976931348623157e308,
                 -0, 1e16, 123456789, -2.5e-10)

hard_fixture <- function() {
  list(
    name = "hard", description = "doubles that are hard to print; a quote \" and a backslash \\",
    X = matrix(hard_values, 3, byrow = TRUE), y = matrix(c(1, 0, -0)),
    layers = list(
      list(weights = matrix(rev(hard_values)[1:3], 3, 3, byrow = TRUE),
           bias = c(-0, 1 / 3, 0.1 + 0.2), activation = "sigmoid"),
      list(weights = matrix(c(0.5, 2^-1074, -1.5)), bias = 1e-300, activation = "sigmoid")
    ),
    lr = 0.1 + 0.2, epochs = 7L, shuffle = FALSE
  )
}

test_that("every fixture loads, and saved reads back to the bit, trained too", {
  for (path in nn_fixture_paths) {
    fixture <- nn_load_fixture(path)
    copy <- tempfile(fileext = ".json")
    nn_save_fixture(fixture, copy)
    expect_same_fixture(nn_load_fixture(copy), fixture)
    fixture$layers <- nn_train(fixture$layers, fixture$X, fixture$y, fixture$lr, 50)$layers
    nn_save_fixture(fixture, copy)
    expect_same_fixture(nn_load_fixture(copy), fixture)
  }
})

test_that("hard doubles read back exactly", {
  path <- tempfile(fileext = ".json")
  nn_save_fixture(hard_fixture(), path)
  loaded <- nn_load_fixture(path)
  expect_same_fixture(loaded, hard_fixture())
  expect_identical(1 / loaded$X[2, 3], -Inf)
  expect_identical(loaded$X[1, 3], 2^-1074)
  expect_identical(nn_format_numbers(c(0.1, 0.1 + 0.2, 1, -0, 1e16, 2^-1074)),
                   c("0.1", "0.30000000000000004", "1.0", "-0.0", "1e+16", "4.94065645841247e-324"))
})

test_that("an invalid fixture is not saved", {
  folder <- tempfile()
  dir.create(folder)
  fixture <- hard_fixture()
  fixture$X[1, 1] <- NaN
  expect_error(nn_save_fixture(fixture, file.path(folder, "nan.json")), "X: holds NaN",
               class = "nnscratch_input_error")
  expect_length(list.files(folder, all.files = TRUE, no.. = TRUE), 0)
})

test_that("every bad fixture is refused naming the file and the field, as in Python", {
  folder <- tempfile()
  dir.create(folder)
  path <- file.path(folder, "bad.json")
  for (case in nn_bad_cases) {
    writeBin(charToRaw(nn_bad_fixture_text(case)), path)
    error <- tryCatch(nn_load_fixture(path), nnscratch_fixture_error = function(e) e)
    expect_s3_class(error, "nnscratch_fixture_error")
    expect_identical(error$path, path, label = case$name)
    expect_identical(error$field, case$field, label = case$name)
    expect_identical(error$category, case$category, label = case$name)
    if (!is.null(case[["problem"]])) {
      expect_identical(error$problem, case[["problem"]], label = case$name)
    } else {
      expect_true(startsWith(error$problem, case[["problem_starts"]]), label = case$name)
    }
    where <- if (is.null(case$field)) "" else paste0(case$field, ": ")
    expect_identical(conditionMessage(error), paste0(path, ": ", where, error$problem))
    expect_identical(list.files(folder, all.files = TRUE, no.. = TRUE), "bad.json")
  }
})

test_that("a missing file is refused naming it", {
  expect_error(nn_load_fixture(file.path(tempdir(), "nothing.json")),
               "nothing.json: cannot be read", class = "nnscratch_fixture_error")
})

test_that("files that are not JSON text are refused, as in Python", {
  path <- tempfile(fileext = ".json")
  refused <- function(bytes) {
    writeBin(bytes, path)
    tryCatch(nn_load_fixture(path), nnscratch_fixture_error = function(e) e)
  }
  error <- refused(raw(0))
  expect_identical(error$category, "json")
  expect_true(startsWith(error$problem, "is not valid JSON ("))
  error <- refused(c(charToRaw('{"format": "nnscratch-fixture/1", "name": "'), as.raw(0xff),
                     charToRaw('"}')))
  expect_identical(c(error$problem, error$category), c("is not UTF-8 text", "json"))
  error <- refused(c(charToRaw('{"format": '), as.raw(0), charToRaw("}")))
  expect_identical(error$category, "json")
  expect_true(startsWith(error$problem, "has a NUL byte at byte 12; JSON is UTF-8 text"))
  error <- refused(charToRaw("null"))
  expect_identical(c(error$problem, error$category),
                   c("must be a JSON object; got null", "structure"))
})

test_that("a file over the size limit is refused before it is read", {
  path <- tempfile(fileext = ".json")
  article <- readChar(file.path(nn_fixture_folder(), "article.json"), 1e6, useBytes = TRUE)
  writeBin(charToRaw(paste0(strrep(" ", 2000), article)), path)
  error <- tryCatch(nn_load_fixture(path, max_bytes = 2000),
                    nnscratch_fixture_error = function(e) e)
  expect_identical(error$problem,
                   sprintf("is %.0f bytes, over the limit of 2000 (max_bytes)", file.size(path)))
  expect_identical(error$category, "file")
  expect_identical(nn_load_fixture(path)$name, "article")
})
