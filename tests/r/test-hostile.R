# Hostile input, full disks, interrupted runs, in R alone. tests/test_hostile.py holds
# both languages to the same words, and tests the command lines and stopped processes;
# tests/bad_fixtures/cases.json lists the files that break the format one edit at a time.

refusal <- function(path, ...) {
  error <- tryCatch(nn_load_fixture(path, ...), nnscratch_input_error = function(e) e)
  expect_s3_class(error, "nnscratch_input_error")
  c(field = if (is.null(error$field)) NA else error$field, category = error$category,
    problem = error$problem)
}

base_text <- function() {
  path <- file.path(nn_root, "tests", "bad_fixtures", "base.json")
  readChar(path, file.size(path), useBytes = TRUE)
}

write_text <- function(text, path = tempfile(fileext = ".json")) {
  writeBin(charToRaw(text), path)
  path
}

not_regular <- paste(
  "is not a regular file (a FIFO, a device or a socket); nnscratch reads regular files only"
)

test_that("only regular files are read, and nothing waits", {
  folder <- tempfile()
  dir.create(folder)
  fifo <- file.path(folder, "fifo.json")
  system2("mkfifo", shQuote(fifo)) # no writer: opening it would wait for ever
  expect_identical(refusal(folder)[["problem"]], "is a directory; give the name of a file")
  expect_identical(refusal(fifo)[["problem"]], not_regular)
  expect_identical(refusal("/dev/zero")[["problem"]], not_regular)
  expect_identical(refusal("/dev/null")[["problem"]], not_regular)
  expect_identical(refusal(file.path(folder, "missing.json"))[["problem"]],
                   "cannot be read (No such file or directory)")
  expect_identical(refusal("/proc/self/maps", max_bytes = 100),
                   c(field = NA, category = "file",
                     problem = "is more than 100 bytes, over the limit of 100 (max_bytes)"))
})

test_that("max_bytes and the path are checked, NA included", {
  article <- file.path(nn_root, "fixtures", "article.json")
  expect_error(nn_load_fixture(article, max_bytes = NaN),
               "max_bytes: must be a whole number, 0 or more; got NaN", fixed = TRUE)
  expect_error(nn_load_fixture(article, max_bytes = "100"),
               "max_bytes: must be a whole number, 0 or more; got a string", fixed = TRUE)
  expect_error(nn_load_fixture(NA), "path: must be the name of a file; got NA", fixed = TRUE)
  expect_error(nn_load_fixture(""), "path: must be the name of a file; got an empty string",
               fixed = TRUE)
})

test_that("text is parsed as JSON, never read as a path or a URL", {
  for (text in c(file.path(nn_root, "fixtures", "article.json"), "http://127.0.0.1:9/f.json")) {
    problem <- refusal(write_text(text))
    expect_identical(problem[["category"]], "json")
    expect_true(startsWith(problem[["problem"]], "is not valid JSON ("))
  }
})

test_that("names R's file() would read otherwise are plain files", {
  folder <- tempfile()
  dir.create(file.path(folder, "~"), recursive = TRUE)
  old <- setwd(folder)
  on.exit(setwd(old))
  for (name in c("stdin", "~/x.json", "clipboard")) {
    file.copy(file.path(nn_root, "fixtures", "article.json"), file.path(".", name))
    expect_identical(nn_load_fixture(name)$name, "article")
  }
})

test_that("other encodings and deep nesting are refused", {
  text <- base_text()
  utf16 <- unlist(lapply(utf8ToInt(text), function(code) as.raw(c(code %% 256, code %/% 256))))
  path <- tempfile(fileext = ".json")
  writeBin(utf16, path)
  expect_identical(refusal(path)[["problem"]], paste(
    "has a NUL byte at byte 2; JSON is UTF-8 text without NUL bytes",
    "(UTF-16 and UTF-32 are refused)"
  ))
  writeBin(c(charToRaw('{"name": "b'), as.raw(0xe4), charToRaw('se"}')), path)
  expect_identical(refusal(path)[["problem"]], "is not UTF-8 text")
  deep <- write_text(paste0(strrep("[", 1e5), strrep("]", 1e5)))
  expect_identical(refusal(deep),
                   c(field = NA, category = "json",
                     problem = "is nested 100000 levels deep, more than 64; a fixture needs 5"))
})

test_that("NaN survives jsonlite as a string no valid text makes", {
  # nn_parse_json turns NaN into "\udfff" before jsonlite, and back after: jsonlite
  # must make of it a string that no valid UTF-8 text (checked before) can be.
  expect_false(validUTF8(jsonlite::parse_json('"\\udfff"')))
  path <- write_text(sub('"lr": 0.5', '"lr": NaN', base_text(), fixed = TRUE))
  expect_identical(refusal(path)[["problem"]], "must be a finite number above 0; got NaN")
  long <- sub("A small valid", strrep("x", 5e6), base_text(), fixed = TRUE)
  path <- write_text(sub("[1.0, 1.0]", "[1.0, NaN]", long, fixed = TRUE))
  expect_identical(refusal(path)[["problem"]],
                   "row 3, column 2 is not finite; NaN and Infinity are refused")
})

xor_five <- function() {
  fixture <- nn_load_fixture(file.path(nn_root, "fixtures", "xor.json"))
  fixture$epochs <- 5
  fixture
}

writes <- function() {
  fixture <- xor_five()
  result <- nn_train_fixture(fixture, trace = TRUE)
  list(
    model = function(path) nn_save_fixture(fixture, path),
    trace = function(path) nn_write_trace_csv(result$trace, path),
    plot = function(path) nn_plot_training(result, fixture, path)
  )
}

entries <- function(folder) list.files(folder, all.files = TRUE, no.. = TRUE)

test_that("outputs that are not files are refused", {
  folder <- tempfile()
  dir.create(file.path(folder, "dir"), recursive = TRUE)
  system2("mkfifo", shQuote(file.path(folder, "fifo")))
  refused <- function(write, path) {
    tryCatch(write(path), nnscratch_fixture_error = function(e) e$problem)
  }
  for (write in writes()) {
    expect_identical(refused(write, file.path(folder, "dir")),
                     "is a directory; give the name of a file")
    expect_identical(refused(write, file.path(folder, "fifo")), sub(
      "reads", "writes", not_regular, fixed = TRUE
    ))
    expect_identical(refused(write, file.path(folder, "none", "x")),
                     "cannot be written (No such file or directory)")
  }
  expect_setequal(entries(folder), c("dir", "fifo"))
})

test_that("a file keeps its mode, a link is replaced, a long name fits", {
  folder <- tempfile()
  dir.create(folder)
  for (what in names(writes())) {
    write <- writes()[[what]]
    private <- file.path(folder, paste0(what, "-private"))
    writeLines("old", private)
    Sys.chmod(private, "600")
    write(private)
    expect_identical(format(file.mode(private)), "600", label = what)
    elsewhere <- file.path(folder, paste0(what, "-elsewhere"))
    writeLines("not to be written through", elsewhere)
    link <- file.path(folder, paste0(what, "-link"))
    file.symlink(elsewhere, link)
    write(link)
    expect_identical(Sys.readlink(link), "", label = what)
    expect_identical(readLines(elsewhere), "not to be written through")
    long <- file.path(folder, substr(paste0(what, "-", strrep("n", 250)), 1, 250))
    write(long)
    expect_gt(file.size(long), 100)
  }
  expect_false(any(startsWith(entries(folder), ".nnscratch")))
})

test_that("a link planted at the temporary name is not followed", {
  folder <- tempfile()
  dir.create(folder)
  victim <- file.path(folder, "victim")
  writeLines("untouched", victim)
  file.symlink(victim, file.path(folder, ".nnscratch-planted.tmp"))
  saving <- nn_save_fixture
  environment(saving) <- list2env(list(nn_write_atomically = function(path, content) {
    open <- nn_open_atomically
    environment(open) <- list2env(list(nn_temporary_name = local({
      names <- c(".nnscratch-planted.tmp", ".nnscratch-fresh.tmp")
      function() {
        name <- names[1]
        names <<- names[-1]
        name
      }
    })), parent = environment(nn_open_atomically))
    file <- open(path)
    file$write(content)
    file$commit()
  }), parent = environment(nn_save_fixture))
  saving(xor_five(), file.path(folder, "model.json"))
  expect_identical(readLines(victim), "untouched")
  expect_identical(nn_load_fixture(file.path(folder, "model.json"))$name, "xor")
})

test_that("what would not load back is not saved", {
  folder <- tempfile()
  dir.create(folder)
  target <- file.path(folder, "model.json")
  file.copy(file.path(nn_root, "fixtures", "article.json"), target)
  before <- readBin(target, "raw", file.size(target))
  article <- nn_article()
  changes <- list(
    list("name", NA_character_, "name: must be a string; got NA"),
    list("expected", list(untrained_half_squared_error = matrix(1:2, 1), decimals = 3),
         "expected.untrained_half_squared_error: must have the shape of y, 3 x 1"),
    list("description", 3, "description: must be a string; got 3.0")
  )
  for (change in changes) {
    fixture <- article
    fixture[change[[1]]] <- list(change[[2]])
    expect_error(nn_save_fixture(fixture, target), change[[3]], fixed = TRUE,
                 class = "nnscratch_input_error")
    expect_identical(readBin(target, "raw", file.size(target)), before)
  }
  expect_identical(entries(folder), "model.json")
})

# nn_open_atomically with one of R's writers replaced: no connection left to open the
# temporary file with; writeLines stops half-way as R does on a full disk; writeBin writes
# half and warns, as R does; a writeBin that writes half and says nothing is caught by the
# size check; a rename that fails.
failing <- list(
  file = list(function(description, open, raw) {
    stop("all connections are in use")
  }, "all connections are in use", c("model", "trace", "plot")),
  writeLines = list(function(text, con, sep, useBytes) { # nolint: object_name_linter. R's name.
    base::writeBin(charToRaw(substr(text[1], 1, nchar(text[1]) %/% 2)), con)
    stop("Error writing to connection:  No space left on device")
  }, "No space left on device", c("model", "trace")),
  writeBin = list(function(object, con) {
    base::writeBin(object[seq_len(length(object) %/% 2)], con)
    warning("problem writing to connection")
  }, "problem writing to connection", "plot"),
  writeBin = list(function(object, con) {
    base::writeBin(object[seq_len(length(object) %/% 2)], con)
  }, "the disk took ", "plot"),
  file.rename = list(function(from, to) {
    warning(sprintf("cannot rename file '%s' to '%s', reason 'Input/output error'", from, to))
    FALSE
  }, "Input/output error", c("model", "trace", "plot"))
)

test_that("a write that fails leaves the old file, names it, and no temporary file", {
  writes_well <- nn_open_atomically
  on.exit(nn_replace("nn_open_atomically", writes_well))
  all_writes <- writes()
  for (number in seq_along(failing)) {
    failure <- failing[[number]]
    folder <- tempfile()
    dir.create(folder)
    broken <- writes_well
    environment(broken) <- list2env(stats::setNames(list(failure[[1]]), names(failing)[number]),
                                    parent = environment(writes_well))
    for (what in failure[[3]]) {
      target <- file.path(folder, paste0("old-", what))
      writeLines("the old file", target)
      nn_replace("nn_open_atomically", broken)
      error <- tryCatch(all_writes[[what]](target), nnscratch_fixture_error = function(e) e)
      nn_replace("nn_open_atomically", writes_well)
      expect_true(startsWith(conditionMessage(error),
                             paste0(target, ": cannot be written (", failure[[2]])), label = what)
      expect_identical(error$category, "file")
      expect_identical(readLines(target), "the old file", label = what)
    }
    expect_true(all(startsWith(entries(folder), "old-")))
  }
})

test_that("a folder that cannot be flushed after the rename is no error, as in Python", {
  writes_well <- nn_open_atomically
  on.exit(nn_replace("nn_open_atomically", writes_well))
  flush_file <- nn_sync
  broken <- writes_well
  environment(broken) <- list2env(list(nn_sync = function(path, fail) {
    if (dir.exists(path)) fail("Input/output error") else flush_file(path, fail)
  }), parent = environment(writes_well))
  folder <- tempfile()
  dir.create(folder)
  target <- file.path(folder, "model.json")
  nn_replace("nn_open_atomically", broken)
  writes()$model(target)
  nn_replace("nn_open_atomically", writes_well)
  expect_true(file.exists(target))
  expect_identical(entries(folder), "model.json")
})

test_that("the last update overflowing is caught (issue 11, case 5)", {
  f <- nn_load_fixture(file.path(nn_root, "fixtures", "linear_output.json"))
  y <- matrix(ifelse(seq_len(nrow(f$y)) %% 2 == 1, 100, -100))
  expect_error(nn_train(f$layers, f$X, y, 1e307, 1), paste(
    "lr: training diverged: in epoch 1, iteration 1, the update made layers[1].bias not",
    "finite; a smaller lr may help"
  ), fixed = TRUE, class = "nnscratch_input_error")
})

test_that("sizes that cannot fit are refused before anything is allocated", {
  f <- nn_article()
  memory <- nn_memory_bytes()
  expect_error(nn_train(f$layers, f$X, f$y, f$lr, 1e10), sprintf(paste(
    "epochs: the losses of 10000000000 epochs would take about 80000 MB, more than the",
    "%.0f MB of memory this machine has"
  ), memory / 1e6), fixed = TRUE)
  expect_error(nn_init_layers(c(1e6, 1e6, 1), "sigmoid", 1),
               "sizes: the layers would take about 8000016 MB", fixed = TRUE)
})

test_that("NA in an argument is named, never a crash", {
  f <- nn_article()
  expect_error(nn_train(f$layers, f$X, f$y, NA, 5),
               "lr: must be a finite number above 0; got NA", fixed = TRUE)
  expect_error(nn_train(f$layers, f$X, f$y, 0.1, NA_integer_),
               "epochs: must be a whole number, 0 or more; got NA", fixed = TRUE)
  expect_error(nn_train(f$layers, f$X, f$y, 0.1, 5, trace = NA),
               "trace: must be true or false; got NA", fixed = TRUE)
  expect_error(nn_train(f$layers, f$X, f$y, 0.1, 5, batch_size = NA_real_),
               "batch_size: must be a whole number, 1 or more; got NA", fixed = TRUE)
})

test_that("epochs and batch sizes past R's integers stay numbers", {
  path <- write_text(sub('"epochs": 10', '"epochs": 10, "batch_size": 2147483648', base_text(),
                         fixed = TRUE))
  fixture <- nn_load_fixture(path)
  expect_identical(fixture$batch_size, 2^31)
  full <- fixture
  full["batch_size"] <- list(NULL)
  expect_identical(nn_train_fixture(fixture)$loss, nn_train_fixture(full)$loss)
})

test_that("the trace CSV is written as training runs, and is the whole trace's", {
  f <- nn_load_fixture(file.path(nn_root, "fixtures", "minibatch.json"))
  folder <- tempfile()
  dir.create(folder)
  sizes <- numeric()
  progress <- function(epoch, loss) {
    temporary <- list.files(folder, pattern = "^[.]nnscratch", all.files = TRUE,
                            full.names = TRUE)
    sizes[epoch] <<- file.size(file.path(temporary, "file"))
  }
  result <- nn_train_fixture(f, trace_csv = file.path(folder, "trace.csv"), progress = progress)
  expect_null(result$trace)
  expect_true(all(diff(sizes) > 0))
  nn_write_trace_csv(nn_train_fixture(f, trace = TRUE)$trace, file.path(folder, "whole.csv"))
  expect_identical(readLines(file.path(folder, "trace.csv")),
                   readLines(file.path(folder, "whole.csv")))
})
