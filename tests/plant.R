# Plant a change in one step of an nnscratch R function, in memory only.
#
# nn_plant(f, target, when, change) returns f with the value of the assignment whose
# left side reads `target` (say "delta[[l]]"), or the value f returns when target is
# "return", changed in the iterations where `when` (R code, say "l == 1") holds: a
# number `change` is added to it; a string is R code that gives the new value from
# `value` (say "value * (abs(value) >= 1e-12)"). `when` is evaluated where the plant is;
# the epoch of the nn_train that runs it is dynGet("epoch"). r/nnscratch.R is not
# touched: the harness uses this to prove that it notices a wrong step. tests/plant.py
# does the same for Python.
nn_plant <- function(f, target, when, change) {
  condition <- str2lang(when)
  changed <- if (is.character(change)) str2lang(change) else bquote(value + .(change))
  planted_value <- function(e) {
    bquote((function(value) if (.(condition)) .(changed) else value)(.(e)))
  }
  planted <- 0
  rewrite <- function(e) {
    if (!is.call(e)) return(e)
    if (identical(e[[1]], as.name("<-")) && identical(deparse(e[[2]]), target)) {
      planted <<- planted + 1
      e[[3]] <- planted_value(e[[3]])
      return(e)
    }
    for (i in seq_along(e)[-1]) {
      # Leave empty arguments (x[i, , ]) and NULL alone: they cannot be passed on.
      if (!identical(e[[i]], substitute()) && !is.null(e[[i]])) e[[i]] <- rewrite(e[[i]])
    }
    e
  }
  body(f) <- if (target == "return") {
    planted <- 1
    planted_value(body(f))
  } else {
    rewrite(body(f))
  }
  if (planted != 1) {
    stop(sprintf("nn_plant: %d assignments to %s, expected 1", planted, target), call. = FALSE)
  }
  f
}
