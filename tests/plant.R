# Plant a change in one step of an nnscratch R function, in memory only.
#
# nn_plant(f, target, when, amount) returns f with `amount` added to the value of
# the assignment whose left side reads `target` (say "delta[[l]]"), or to the value
# f returns when target is "return", in the iterations where `when` (R code, say
# "l == 1") holds. r/nnscratch.R is not touched: the harness uses this to prove that
# it notices a wrong step. tests/plant.py does the same for Python.
nn_plant <- function(f, target, when, amount) {
  condition <- str2lang(when)
  planted <- 0
  rewrite <- function(e) {
    if (!is.call(e)) return(e)
    if (identical(e[[1]], as.name("<-")) && identical(deparse(e[[2]]), target)) {
      planted <<- planted + 1
      e[[3]] <- bquote(.(e[[3]]) + if (.(condition)) .(amount) else 0)
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
    bquote(.(body(f)) + if (.(condition)) .(amount) else 0)
  } else {
    rewrite(body(f))
  }
  if (planted != 1) {
    stop(sprintf("nn_plant: %d assignments to %s, expected 1", planted, target), call. = FALSE)
  }
  f
}
