# The command line, as Python's: Rscript r/cli.R train | crosscheck | explain | check | fixtures
#
# Rscript r/cli.R --help lists the commands, Rscript r/cli.R train --help a command's
# options: the same help as Python's (python -m nnscratch), read from the same table,
# and the arguments are read by the same rules. Errors print one line and exit with
# status 2; check exits with status 1 when your numbers part from nnscratch's; Ctrl-C
# ends with one line and status 130, a closed output pipe quietly with status 141.
# crosscheck runs the harness, which lives in Python (it drives R through rpy2): it
# calls python -m nnscratch crosscheck.

script <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
root <- normalizePath(file.path(dirname(script), ".."))
# Into an environment of its own on the search path: this script uses helpers too.
source(file.path(root, "r", "nnscratch.R"), local = attach(NULL, name = "nnscratch.R"))

# A run whose epochs take longer than this, on a terminal, gets a progress bar.
progress_after_seconds <- 2

program <- "Rscript r/cli.R"

option <- function(name, value, kind, help, python_only = FALSE) {
  list(name = name, value = value, kind = kind, help = help, python_only = python_only)
}

# The commands, their arguments, options and help; Python's __main__ holds the same table.
# An argument ending with ... takes one or more.
commands <- list(
  train = list(
    summary = "train a fixture, printing the loss", arguments = "FIXTURE",
    options = list(
      option("epochs", "N", "int", "train this many epochs, instead of the fixture's"),
      option("lr", "X", "float", "this learning rate, instead of the fixture's"),
      option("batch-size", "N", "int", "batches of N samples, instead of the fixture's"),
      option("seed", "N", "int", "shuffle the samples every epoch, from this seed"),
      option("every", "N", "int", "print the loss every N epochs (default: ten lines)"),
      option("trace", "FILE.csv", "file", "write every number of the run, as it runs"),
      option("trace-every", "K", "int", "with --trace: only every K-th epoch"),
      option("trace-quantities", "A,B", "names",
             "with --trace: only these quantities (and the samples and the loss)"),
      option("plot", "FILE.png", "file", "draw the loss (and the decision boundary)"),
      option("log-scale", "", "flag", "with --plot: the loss on a log axis"),
      option("dpi", "N", "int", "with --plot: pixels per inch (default: 100)"),
      option("save", "MODEL.json", "file", "save the trained network as a fixture")
    )
  ),
  crosscheck = list(summary = "train in Python and in R, compare every number",
                    arguments = "FIXTURE...", options = list()),
  explain = list(
    summary = "the eleven steps of one iteration, with their numbers", arguments = "FIXTURE",
    options = list(
      option("epoch", "K", "int", "the epoch to show (default: 1)"),
      option("iteration", "I", "int", "the iteration of that epoch (default: 1)"),
      option("digits", "D", "int", "decimals to round to (default: 3)"),
      option("xlsx", "FILE.xlsx", "file", "also write the steps as a spreadsheet", TRUE),
      option("html", "FILE.html", "file", "also write the walkthrough page, opening there")
    )
  ),
  check = list(summary = "check your own network's numbers (a CSV) against nnscratch's",
               arguments = c("FIXTURE", "MINE.csv"), options = list()),
  fixtures = list(summary = "list the fixtures shipped with nnscratch", arguments = character(),
                  options = list())
)

# How option values are read, in both languages: decimal numbers only (no 0x10, no 1_000).
kinds <- c(
  int = "^[+-]?[0-9]+$",
  float = "^[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?$",
  file = "^(?s).+$",
  names = "^[a-z_]+(,[a-z_]+)*$",
  flag = ""
)

# The conditions the command line ends on, each with its exit status.
signal <- function(class, message) {
  stop(structure(class = c(class, "error", "condition"), list(message = message, call = NULL)))
}
usage_error <- function(message) signal("nnscratch_usage_error", message)

# Print to the standard output; when its reader has gone (| head), end quietly.
say <- function(...) {
  tryCatch(cat(..., sep = ""), error = function(e) {
    if (grepl("SIGPIPE", conditionMessage(e))) signal("nnscratch_broken_pipe", "") else stop(e)
  })
}

# The command, its arguments and its options, read by the rules Python's parse follows
# too; NULL after printing the help or the version.
parse_arguments <- function(words) {
  if (length(words) == 0) {
    usage_error(sprintf("give a command: %s (see %s --help)",
                        paste(names(commands), collapse = ", "), program))
  }
  if (words[1] %in% c("-h", "--help")) {
    say(help_text(NULL))
    return(NULL)
  }
  if (identical(words, "--version")) {
    say(sprintf("nnscratch %s\n", read.dcf(file.path(root, "DESCRIPTION"), "Version")))
    return(NULL)
  }
  if (!(words[1] %in% names(commands))) {
    usage_error(sprintf("unknown command '%s'; the commands are %s", words[1],
                        paste(names(commands), collapse = ", ")))
  }
  command <- commands[[words[1]]]
  known <- stats::setNames(command$options, vapply(command$options, `[[`, "", "name"))
  given <- character()
  options <- list()
  rest <- words[-1]
  while (length(rest) > 0) {
    word <- rest[1]
    rest <- rest[-1]
    if (word == "--") { # what follows is arguments, even if it starts with -
      given <- c(given, rest)
      break
    }
    if (word %in% c("-h", "--help")) {
      say(help_text(words[1]))
      return(NULL)
    }
    if (!startsWith(word, "-") || word == "-") {
      given <- c(given, word)
      next
    }
    name <- if (startsWith(word, "--")) sub("=.*$", "", substring(word, 3)) else word
    equals <- startsWith(word, "--") && grepl("=", word, fixed = TRUE)
    if (!(name %in% names(known))) {
      usage_error(sprintf("unrecognized argument: %s (see %s %s --help)", word, program,
                          words[1]))
    }
    if (known[[name]]$python_only) {
      usage_error(sprintf(paste(
        "argument --%s: is Python's alone (openpyxl writes the spreadsheet):",
        "python -m nnscratch %s ... --%s %s"
      ), name, words[1], name, known[[name]]$value))
    }
    if (known[[name]]$kind == "flag") {
      if (equals) usage_error(sprintf("argument --%s: takes no value", name))
      options[[gsub("-", "_", name)]] <- TRUE
      next
    }
    if (equals) {
      value <- sub("^[^=]*=", "", word)
    } else {
      if (length(rest) == 0) usage_error(sprintf("argument --%s: expected one argument", name))
      value <- rest[1]
      rest <- rest[-1]
    }
    options[[gsub("-", "_", name)]] <- read_value(known[[name]], value)
  }
  wanted <- command$arguments
  several <- length(wanted) > 0 && endsWith(wanted[length(wanted)], "...")
  if (length(given) < length(wanted) || (length(given) > length(wanted) && !several)) {
    usage_error(sprintf("%s takes %s; got %d (see %s %s --help)", words[1],
                        if (length(wanted)) paste(wanted, collapse = " ") else "no arguments",
                        length(given), program, words[1]))
  }
  list(command = words[1], arguments = given, options = options)
}

# An option's value, read by its kind; numbers as decimal text.
read_value <- function(option, text) {
  if (!grepl(kinds[[option$kind]], text, perl = TRUE)) {
    usage_error(sprintf("argument --%s: invalid %s value: '%s'", option$name, option$kind, text))
  }
  switch(option$kind,
    names = strsplit(text, ",", fixed = TRUE)[[1]],
    int = ,
    float = as.numeric(text),
    text
  )
}

# The help of one command (or, for NULL, of the command line), as Python prints it too.
help_text <- function(name) {
  pad <- function(left, width) formatC(left, width = -width)
  if (is.null(name)) {
    left <- vapply(names(commands), function(command) {
      paste(c(command, commands[[command]]$arguments), collapse = " ")
    }, "")
    width <- max(nchar(left)) + 4
    lines <- c(
      sprintf("usage: %s COMMAND [ARGUMENTS...] [options]", program),
      "",
      "The multi-layer perceptron of 'Neural Networks From Scratch in Python & R', in",
      "Python and in R, with the same commands, options and output in both.",
      "",
      "commands:",
      paste0("  ", pad(left, width), vapply(commands, `[[`, "", "summary")),
      "",
      sprintf("%s COMMAND --help says more; %s --version, the version. Errors", program, program),
      "print one line and exit with status 2."
    )
    return(paste0(paste(lines, collapse = "\n"), "\n"))
  }
  command <- commands[[name]]
  left <- c(vapply(command$options, function(o) trimws(sprintf("--%s %s", o$name, o$value)), ""),
            "-h, --help")
  right <- c(vapply(command$options, function(o) {
    paste0(o$help, if (o$python_only) " (Python only)" else "")
  }, ""), "print this help")
  width <- max(nchar(left)) + 4
  lines <- c(
    paste(c("usage:", program, name, command$arguments, "[options]"), collapse = " "),
    "",
    paste0(toupper(substring(command$summary, 1, 1)), substring(command$summary, 2), "."),
    "",
    "options:",
    paste0("  ", pad(left, width), right)
  )
  paste0(paste(lines, collapse = "\n"), "\n")
}

# Before anything runs: what the options need is there, every output's folder exists and
# this user may write in it, and no file is named twice.
check_ready <- function(arguments) {
  if (!is.null(arguments$options$plot) && !capabilities("cairo")) {
    usage_error("argument --plot: needs an R with cairo (capabilities(\"cairo\") is FALSE)")
  }
  outputs <- intersect(c("trace", "plot", "save", "html"), names(arguments$options))
  for (number in seq_along(outputs)) {
    path <- arguments$options[[outputs[number]]]
    nn_output_mode(path)
    folder <- dirname(nn_local_path(path))
    if (!dir.exists(folder)) {
      nn_file_error(path, "cannot be written (No such file or directory)")
    }
    if (file.access(folder, 3) != 0) { # 3: write and search
      nn_file_error(path, "cannot be written (Permission denied)")
    }
    for (other in outputs[seq_len(number - 1)]) {
      if (nn_same_file(path, arguments$options[[other]])) {
        usage_error(sprintf(
          "argument --%s: %s is also the file of --%s; give each output its own file",
          outputs[number], path, other
        ))
      }
    }
  }
}

train_command <- function(arguments) {
  check_ready(arguments)
  options <- arguments$options
  fixture <- nn_load_fixture(arguments$arguments[1])
  for (name in intersect(c("epochs", "lr", "batch_size", "seed"), names(options))) {
    fixture[[name]] <- options[[name]]
  }
  if (!is.null(options$seed)) fixture$shuffle <- TRUE
  f <- fixture
  recording <- nn_recording(
    every = if (is.null(options$trace_every)) 1 else options$trace_every,
    quantities = options$trace_quantities,
    csv = options$trace
  )
  nn_check_training(f$layers, f$X, f$y, f$lr, f$epochs, f[["batch_size"]],
                    isTRUE(f[["shuffle"]]), f[["seed"]])
  nn_check_recording(recording, f$layers, f$X, f[["batch_size"]], f$epochs, first_epoch = 1)
  every <- if (is.null(options$every)) max(1, f$epochs %/% 10) else options$every
  nn_check_whole(every, "--every", 1)
  batches <- if (is.null(f[["batch_size"]])) "" else sprintf(", batches of %.0f", f$batch_size)
  shuffled <- if (isTRUE(f[["shuffle"]])) sprintf(", shuffled (seed %.0f)", f$seed) else ""
  say(sprintf("%s: %d samples, %.0f epochs, lr %g%s%s\n", f$name, nrow(f$X), f$epochs, f$lr,
              batches, shuffled))
  report <- progress_printer(f$epochs, every)
  result <- tryCatch(
    nn_train_fixture(
      f, progress = report$progress, trace_csv = recording$csv, trace_every = recording$every,
      trace_quantities = recording$quantities
    ),
    interrupt = function(e) {
      report$finish()
      signal("nnscratch_interrupted", sprintf(
        "interrupted after epoch %.0f of %.0f; no file written", report$reached(), f$epochs
      ))
    }
  )
  report$finish()
  say(if (f$epochs > 0) sprintf("final loss %.6f\n", result$loss[f$epochs]) else "no epochs\n")
  score <- nn_accuracy(result$layers, f$X, f$y)
  if (!is.null(score)) { # classes, not a regression
    say(sprintf("accuracy %.4f\n", score))
  }
  if (!is.null(options$trace)) {
    say(sprintf("wrote %s\n", options$trace))
  }
  if (!is.null(options$plot)) {
    nn_plot_training(result, f, options$plot, log_scale = isTRUE(options$log_scale),
                     dpi = if (is.null(options$dpi)) 100 else options$dpi)
    say(sprintf("wrote %s\n", options$plot))
  }
  if (!is.null(options$save)) {
    f$layers <- result$layers
    nn_save_fixture(f, options$save)
    say(sprintf("wrote %s\n", options$save))
  }
  0
}

# Prints the loss every `every` epochs; on a terminal, a long run also gets a bar.
progress_printer <- function(epochs, every) {
  start <- shown <- Sys.time()
  bar <- FALSE
  reached <- 0
  clear <- function() {
    if (bar) cat("\r", strrep(" ", 60), "\r", sep = "", file = stderr())
    bar <<- FALSE
  }
  progress <- function(epoch, loss) {
    reached <<- epoch
    if (epoch %% every == 0 || epoch == 1) {
      clear()
      say(sprintf("epoch %6d  loss %.6f\n", epoch, loss))
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
  }
  list(progress = progress, finish = clear, reached = function() reached)
}

crosscheck_command <- function(arguments) {
  python <- Sys.getenv("NNSCRATCH_PYTHON", file.path(root, ".venv", "bin", "python"))
  if (!file.exists(python)) {
    usage_error(sprintf(
      "crosscheck runs the Python harness, and %s is missing: run make setup", python
    ))
  }
  system2(python, c("-m", "nnscratch", "crosscheck", "--", shQuote(arguments$arguments)))
}

explain_command <- function(arguments) {
  check_ready(arguments)
  options <- arguments$options
  fixture <- nn_load_fixture(arguments$arguments[1])
  epoch <- if (is.null(options$epoch)) 1 else options$epoch
  iteration <- if (is.null(options$iteration)) 1 else options$iteration
  say(nn_explain(fixture, epoch = epoch, iteration = iteration,
                 digits = if (is.null(options$digits)) 3 else options$digits))
  if (!is.null(options$html)) {
    nn_explain_html(fixture, options$html, epoch = epoch, iteration = iteration)
    say(sprintf("wrote %s\n", options$html))
  }
  0
}

check_command <- function(arguments) {
  answer <- nn_check_trace(arguments$arguments[1], arguments$arguments[2])
  say(format(answer))
  if (answer$ok) 0 else 1
}

fixtures_command <- function() {
  say(sprintf("The fixtures shipped with nnscratch, in %s; each loads by its name.\n",
              normalizePath(nn_fixture_folder())))
  for (name in nn_list_fixtures()) {
    f <- nn_load_fixture(name)
    line <- sprintf("%-16s %4d x %-2d %s", name, nrow(f$X), ncol(f$X),
                    strsplit(f$description, "[.:] ")[[1]][1])
    say(if (nchar(line) <= 100) line else paste0(substr(line, 1, 97), "..."), "\n")
  }
  0
}

# The error in one line: line breaks (a file name may hold one) become spaces; nothing
# else changes.
fail <- function(message, status) {
  cat("error: ", gsub("[\r\n]+", " ", message), "\n", sep = "", file = stderr())
  quit(status = status)
}

status <- tryCatch(
  {
    arguments <- parse_arguments(commandArgs(trailingOnly = TRUE))
    if (is.null(arguments)) {
      0 # the help was asked for
    } else {
      switch(arguments$command,
        train = train_command(arguments),
        crosscheck = crosscheck_command(arguments),
        explain = explain_command(arguments),
        check = check_command(arguments),
        fixtures = fixtures_command()
      )
    }
  },
  nnscratch_broken_pipe = function(e) 141,
  nnscratch_interrupted = function(e) fail(conditionMessage(e), 130),
  interrupt = function(e) fail("interrupted", 130),
  error = function(e) fail(conditionMessage(e), 2)
)
quit(status = status)
