# The command line, as Python's: Rscript r/cli.R train | crosscheck | explain | check | fixtures
#
#   Rscript r/cli.R train FIXTURE [--epochs N] [--lr X] [--batch-size N] [--seed N]
#                                 [--every N] [--trace FILE.csv] [--plot FILE.png]
#                                 [--log-scale] [--dpi N] [--save MODEL.json]
#   Rscript r/cli.R crosscheck FIXTURE...
#   Rscript r/cli.R explain FIXTURE [--epoch K] [--iteration I] [--digits D] [--html FILE.html]
#   Rscript r/cli.R check FIXTURE MINE.csv
#   Rscript r/cli.R fixtures
#
# Errors print one line and exit with status 2; check exits with status 1 when your
# numbers part from nnscratch's. crosscheck runs the harness, which lives in Python (it
# drives R through rpy2): it calls python -m nnscratch crosscheck.

script <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
root <- normalizePath(file.path(dirname(script), ".."))
# Into an environment of its own on the search path: this script uses helpers too.
source(file.path(root, "r", "nnscratch.R"), local = attach(NULL, name = "nnscratch.R"))

# A run whose epochs take longer than this, on a terminal, gets a progress bar.
progress_after_seconds <- 2

fail <- function(message) {
  cat("error: ", message, "\n", sep = "", file = stderr())
  quit(status = 2)
}

# The options each command takes, and how to read their values.
commands <- list(
  train = list(
    epochs = "int", lr = "float", "batch-size" = "int", seed = "int", every = "int",
    trace = "file", plot = "file", "log-scale" = "flag", dpi = "int", save = "file"
  ),
  crosscheck = list(),
  explain = list(epoch = "int", iteration = "int", digits = "int", html = "file"),
  check = list(),
  fixtures = list()
)

parse_arguments <- function(words) {
  if (!(words[1] %in% names(commands))) {
    fail(sprintf("unknown command '%s'; the commands are %s", words[1],
                 paste(names(commands), collapse = ", ")))
  }
  known <- commands[[words[1]]]
  options <- list()
  positional <- character()
  i <- 2
  while (i <= length(words)) {
    word <- words[i]
    if (startsWith(word, "--")) {
      name <- sub("^--", "", word)
      if (!(name %in% names(known))) fail(sprintf("unrecognized argument: %s", word))
      if (known[[name]] == "flag") {
        options[[name]] <- TRUE
        i <- i + 1
        next
      }
      if (i == length(words)) fail(sprintf("argument %s: expected one argument", word))
      value <- words[i + 1]
      if (known[[name]] != "file") {
        number <- suppressWarnings(as.numeric(value))
        if (is.na(number) || (known[[name]] == "int" && number != round(number))) {
          fail(sprintf("argument %s: invalid %s value: '%s'", word, known[[name]], value))
        }
        value <- number
      }
      options[[name]] <- value
      i <- i + 2
    } else {
      positional <- c(positional, word)
      i <- i + 1
    }
  }
  wanted <- switch(words[1], crosscheck = length(positional) >= 1,
                   check = length(positional) == 2, fixtures = length(positional) == 0,
                   length(positional) == 1)
  if (!wanted) {
    fail(switch(words[1], crosscheck = "crosscheck takes at least one fixture file",
                check = "check takes a fixture file and your CSV",
                fixtures = sprintf("unrecognized argument: %s", positional[1]),
                sprintf("%s takes one fixture file", words[1])))
  }
  list(command = words[1], fixtures = positional, options = options)
}

train_command <- function(fixture_path, options) {
  fixture <- nn_load_fixture(fixture_path)
  for (name in c("epochs", "lr", "seed")) {
    if (!is.null(options[[name]])) fixture[[name]] <- options[[name]]
  }
  if (!is.null(options[["batch-size"]])) fixture$batch_size <- options[["batch-size"]]
  if (!is.null(options$seed)) fixture$shuffle <- TRUE
  f <- fixture
  nn_check_training(f$layers, f$X, f$y, f$lr, f$epochs, f[["batch_size"]],
                    isTRUE(f[["shuffle"]]), f[["seed"]])
  every <- if (is.null(options$every)) max(1, f$epochs %/% 10) else options$every
  batches <- if (is.null(f[["batch_size"]])) "" else sprintf(", batches of %d", f$batch_size)
  shuffled <- if (isTRUE(f[["shuffle"]])) sprintf(", shuffled (seed %d)", f$seed) else ""
  cat(sprintf("%s: %d samples, %d epochs, lr %g%s%s\n", f$name, nrow(f$X), f$epochs, f$lr,
              batches, shuffled))
  result <- nn_train_fixture(f, trace = !is.null(options$trace),
                             progress = progress_printer(f$epochs, every))
  cat(if (f$epochs > 0) sprintf("final loss %.6f\n", result$loss[f$epochs]) else "no epochs\n")
  score <- nn_accuracy(result$layers, f$X, f$y)
  if (!is.null(score)) { # classes, not a regression
    cat(sprintf("accuracy %.4f\n", score))
  }
  if (!is.null(options$trace)) {
    nn_write_trace_csv(result$trace, options$trace)
    cat(sprintf("wrote %s\n", options$trace))
  }
  if (!is.null(options$plot)) {
    nn_plot_training(result, f, options$plot, log_scale = isTRUE(options[["log-scale"]]),
                     dpi = if (is.null(options$dpi)) 100 else options$dpi)
    cat(sprintf("wrote %s\n", options$plot))
  }
  if (!is.null(options$save)) {
    f$layers <- result$layers
    nn_save_fixture(f, options$save)
    cat(sprintf("wrote %s\n", options$save))
  }
  0
}

# Prints the loss every `every` epochs; on a terminal, a long run also gets a bar.
progress_printer <- function(epochs, every) {
  start <- shown <- Sys.time()
  bar <- FALSE
  clear <- function() {
    if (bar) cat("\r", strrep(" ", 60), "\r", sep = "", file = stderr())
    bar <<- FALSE
  }
  function(epoch, loss) {
    if (epoch %% every == 0 || epoch == 1) {
      clear()
      cat(sprintf("epoch %6d  loss %.6f\n", epoch, loss))
    }
    now <- Sys.time()
    elapsed <- as.numeric(difftime(now, start, units = "secs"))
    long_run <- elapsed / epoch * epochs > progress_after_seconds
    if (long_run && isatty(stderr()) && as.numeric(difftime(now, shown, units = "secs")) > 0.1) {
      filled <- round(30 * epoch / epochs)
      cat(sprintf("\r[%s%s] %d/%d", strrep("#", filled), strrep(".", 30 - filled), epoch, epochs),
          file = stderr())
      shown <<- now
      bar <<- TRUE
    }
    if (epoch == epochs) clear()
  }
}

crosscheck_command <- function(fixture_paths) {
  python <- Sys.getenv("NNSCRATCH_PYTHON", file.path(root, ".venv", "bin", "python"))
  if (!file.exists(python)) {
    fail(sprintf("crosscheck runs the Python harness, and %s is missing: run make setup", python))
  }
  system2(python, c("-m", "nnscratch", "crosscheck", shQuote(fixture_paths)))
}

check_command <- function(paths) {
  answer <- nn_check_trace(paths[1], paths[2])
  cat(format(answer))
  if (answer$ok) 0 else 1
}

explain_command <- function(fixture_path, options) {
  fixture <- nn_load_fixture(fixture_path)
  epoch <- if (is.null(options$epoch)) 1 else options$epoch
  iteration <- if (is.null(options$iteration)) 1 else options$iteration
  cat(nn_explain(fixture, epoch = epoch, iteration = iteration,
                 digits = if (is.null(options$digits)) 3 else options$digits))
  if (!is.null(options$html)) {
    nn_explain_html(fixture, options$html, epoch = epoch, iteration = iteration)
    cat(sprintf("wrote %s\n", options$html))
  }
  0
}

fixtures_command <- function() {
  cat(sprintf("The fixtures shipped with nnscratch, in %s; each loads by its name.\n",
              normalizePath(nn_fixture_folder())))
  for (name in nn_list_fixtures()) {
    f <- nn_load_fixture(name)
    line <- sprintf("%-16s %4d x %-2d %s", name, nrow(f$X), ncol(f$X),
                    strsplit(f$description, "[.:] ")[[1]][1])
    cat(if (nchar(line) <= 100) line else paste0(substr(line, 1, 97), "..."), "\n", sep = "")
  }
  0
}

words <- commandArgs(trailingOnly = TRUE)
if (identical(words, "--version")) {
  cat(sprintf("nnscratch %s\n", read.dcf(file.path(root, "DESCRIPTION"), "Version")))
  quit(status = 0)
}
if (length(words) == 0 || words[1] %in% c("-h", "--help")) {
  cat(readLines(file.path(root, "r", "cli.R"))[3:13], sep = "\n")
  quit(status = if (length(words) == 0) 2 else 0)
}
arguments <- parse_arguments(words)
status <- tryCatch(
  switch(arguments$command,
    train = train_command(arguments$fixtures, arguments$options),
    crosscheck = crosscheck_command(arguments$fixtures),
    explain = explain_command(arguments$fixtures, arguments$options),
    check = check_command(arguments$fixtures),
    fixtures = fixtures_command()
  ),
  error = function(e) fail(gsub("\\s+", " ", conditionMessage(e)))
)
quit(status = status)
