# Every R block of README.md runs as written, each in an R of its own, from the repository
# root (a folder holding the checkout's r/ and fixtures/, so that what the blocks write
# stays out of the checkout). In a block of "> " lines, each line's output must be what
# the block shows under it, a line "..." standing for any lines left out.
# tests/test_readme.py does the same for the Python blocks.

# The ```r blocks of README.md, each as its lines.
readme_blocks <- function(language) {
  readme <- readLines(file.path(nn_root, "README.md"), encoding = "UTF-8")
  fences <- which(startsWith(readme, "```"))
  opening <- fences[seq(1, length(fences), by = 2)]
  opening <- opening[readme[opening] == paste0("```", language)]
  lapply(opening, function(start) {
    readme[(start + 1):(fences[fences > start][1] - 1)]
  })
}

# Whether the lines printed are those shown, "..." standing for any lines.
shows <- function(shown, printed) {
  pattern <- paste0(ifelse(shown == "...", "(.*\n)*?", paste0("\\Q", shown, "\\E\n")),
                    collapse = "")
  grepl(paste0("^", pattern, "$"), paste0(printed, "\n", collapse = ""), perl = TRUE)
}

# Run R code in a new R, in folder; its output, as lines.
run_r <- function(code, folder) {
  script <- tempfile(fileext = ".R")
  writeLines(code, script)
  old <- setwd(folder)
  on.exit(setwd(old))
  output <- suppressWarnings(system2(file.path(R.home("bin"), "Rscript"), script,
                                     stdout = TRUE, stderr = TRUE))
  status <- attr(output, "status")
  expect_null(status, label = paste(c(code, output), collapse = "\n"))
  output
}

# A session block as a list of commands, each with the lines shown under it.
session_commands <- function(block) {
  commands <- list()
  for (line in block) {
    if (startsWith(line, "> ")) {
      commands <- c(commands, list(list(code = substring(line, 3), shown = character())))
    } else if (startsWith(line, "+ ")) {
      last <- length(commands)
      commands[[last]]$code <- c(commands[[last]]$code, substring(line, 3))
    } else {
      last <- length(commands)
      commands[[last]]$shown <- c(commands[[last]]$shown, line)
    }
  }
  commands
}

test_that("every R block of README.md runs as written, and prints what it shows", {
  skip_if_not(nn_in_checkout, "README.md belongs to the checkout")
  root <- tempfile("root")
  dir.create(root)
  file.symlink(file.path(nn_root, c("r", "fixtures")), root)
  blocks <- readme_blocks("r")
  expect_gte(length(blocks), 3)
  for (block in blocks) {
    if (!startsWith(block[1], "> ")) {
      run_r(block, root)
      next
    }
    commands <- session_commands(block)
    # Each command autoprinted as at the console, then a line of its own to mark its end.
    code <- unlist(lapply(commands, function(command) {
      c(sprintf("source(exprs = parse(text = %s), print.eval = TRUE)",
                deparse(paste(command$code, collapse = "\n"))),
        'cat("<end of command>\\n")')
    }))
    printed <- run_r(code, root)
    ends <- which(printed == "<end of command>")
    expect_length(ends, length(commands))
    starts <- c(1, utils::head(ends, -1) + 1)
    for (i in seq_along(commands)) {
      lines <- printed[seq_len(ends[i] - starts[i]) + starts[i] - 1]
      expect_true(shows(commands[[i]]$shown, lines),
                  label = paste(c(commands[[i]]$code, "printed:", lines), collapse = "\n"))
    }
  }
})

test_that("the check of printed lines can fail", {
  expect_true(shows(c("a", "...", "d"), c("a", "b", "c", "d")))
  expect_true(shows(character(), character()))
  expect_false(shows(c("a", "...", "d"), c("a", "b", "c")))
  expect_false(shows(character(), "anything"))
  expect_false(shows("a", c("a", "b")))
})
