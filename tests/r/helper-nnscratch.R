# Loaded by testthat before the tests: the R implementation and shared test data.
nn_root <- normalizePath(testthat::test_path("..", ".."))
source(file.path(nn_root, "r", "nnscratch.R"))

nn_fixture_paths <- Sys.glob(file.path(nn_root, "fixtures", "*.json"))
nn_fixture_paths <- nn_fixture_paths[basename(nn_fixture_paths) != "schema.json"]

nn_article <- function() nn_load_fixture(file.path(nn_root, "fixtures", "article.json"))

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
