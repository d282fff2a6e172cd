# make bench's R side: one Rscript per BLAS, started by bench/bench.py from the checkout's
# root and driven through its standard input, so that the runs of both BLAS interleave
# with Python's. A command is one line of words; its answer is lines of tab-separated
# fields, closed by a line "end" (an R error: a line "error", its message, then "end").
#   blas                        the BLAS and LAPACK this process loaded, and its threads
#   data DIR N D H O LR SEED    read DIR/X.bin and DIR/y.bin (doubles, column after column,
#                               N rows) and make the network as bench.py makes it
#   time WHAT EPOCHS            seconds, minor page faults, seconds of system time and of R's
#                               garbage collector of one run of WHAT: nn_train, bare_loop,
#                               gemms (the five products of an epoch as nn_train writes them)
#                               or gemms_t (as bare_loop writes them)
#   agree EPOCHS                the largest difference between nn_train's and bare_loop's
#                               weights and biases after EPOCHS epochs
#   profile WHAT EPOCHS         Rprof of a run of WHAT: its seconds, then the share (%) of
#                               its time each function and each line takes itself (the time
#                               of R's garbage collector as <GC>), the largest first
#   collections WHAT EPOCHS     how many garbage collections of each level (0, 1, 2: full)
#                               a run of WHAT makes, and the MB of vectors still in use after
#                               them (the mean)
#   allocations WHAT EPOCHS     how many vectors of 100 kB or more a run of WHAT allocates
#                               (Rprofmem), and their bytes
#   peak WHAT                   MB of R's vectors at the peak of a one-epoch run of WHAT,
#                               beyond those alive before it
#   steps REPEATS               seconds of a call of each of a few steps of an epoch (named as
#                               bench.py's python_steps names its own), on matrices of the
#                               sizes the network gives

# With their source kept, so that Rprof can name the lines.
source("r/nnscratch.R", keep.source = TRUE)
source("bench/article_loops.R", keep.source = TRUE)

state <- new.env()

minor_faults <- function() {
  fields <- strsplit(sub(".*\\) ", "", readLines("/proc/self/stat")), " ")[[1]]
  as.numeric(fields[[8]]) # minflt, the 10th field of proc(5)
}

# Seconds, minor page faults, seconds of system time and seconds of R's garbage collector
# of one run().
timed <- function(run) {
  faults <- minor_faults()
  system_time <- proc.time()[["sys.self"]]
  gc_time <- gc.time()[[3]]
  start <- Sys.time()
  run()
  seconds <- as.numeric(Sys.time()) - as.numeric(start)
  c(
    seconds, minor_faults() - faults, proc.time()[["sys.self"]] - system_time,
    gc.time()[[3]] - gc_time
  )
}

# The five products of an epoch, on matrices of the shapes the network gives.
products <- function(transposed) {
  X <- state$X # nolint: object_name_linter. X, as in the maths.
  n <- nrow(X)
  w_hidden <- state$layers[[1]]$weights
  w_out <- state$layers[[2]]$weights
  hidden <- matrix(0.5, n, ncol(w_hidden))
  delta_out <- matrix(0.1, n, ncol(w_out))
  delta_hidden <- matrix(0.1, n, ncol(w_hidden))
  if (transposed) {
    function(epochs) {
      for (epoch in seq_len(epochs)) {
        X %*% w_hidden
        hidden %*% w_out
        delta_out %*% t(w_out)
        t(hidden) %*% delta_out
        t(X) %*% delta_hidden
      }
    }
  } else {
    function(epochs) {
      for (epoch in seq_len(epochs)) {
        X %*% w_hidden
        hidden %*% w_out
        tcrossprod(delta_out, w_out)
        crossprod(hidden, delta_out)
        crossprod(X, delta_hidden)
      }
    }
  }
}

# What `time` can run: each makes, outside the timing, a function of the epochs.
runs <- list(
  nn_train = function() {
    function(epochs) nn_train(state$layers, state$X, state$y, state$lr, epochs)
  },
  bare_loop = function() {
    layers <- state$layers
    function(epochs) {
      bare_loop(
        state$X, state$y, layers[[1]]$weights, layers[[1]]$bias, layers[[2]]$weights,
        layers[[2]]$bias, state$lr, epochs
      )
    }
  },
  gemms = function() products(FALSE),
  gemms_t = function() products(TRUE)
)

commands <- list(
  blas = function() {
    maps <- readLines("/proc/self/maps")
    loaded <- unique(sub(".* ", "", grep("blas|lapack", maps, value = TRUE)))
    threads <- grep("^Threads:", readLines("/proc/self/status"), value = TRUE)
    c(
      paste("blas", extSoftVersion()[["BLAS"]], sep = "\t"),
      paste("lapack", La_library(), sep = "\t"),
      paste("loaded", paste(loaded, collapse = " "), sep = "\t"),
      paste("threads", sub("Threads:\\s*", "", threads), sep = "\t")
    )
  },
  data = function(dir, n, d, h, o, lr, seed) {
    n <- as.integer(n)
    read <- function(name, columns) {
      matrix(readBin(file.path(dir, name), "double", n * columns), n, columns)
    }
    state$X <- read("X.bin", as.integer(d))
    state$y <- read("y.bin", as.integer(o))
    state$lr <- as.numeric(lr)
    state$layers <- nn_init_layers(
      as.integer(c(d, h, o)), "sigmoid", as.integer(seed), "glorot"
    )
    "ok"
  },
  time = function(what, epochs) {
    run <- runs[[what]]()
    run(0L) # R compiles a closure at its first call: not in the timing
    epochs <- as.integer(epochs)
    invisible(gc())
    paste(timed(function() run(epochs)), collapse = "\t")
  },
  agree = function(epochs) {
    epochs <- as.integer(epochs)
    ours <- runs$nn_train()(epochs)$layers
    bare <- runs$bare_loop()(epochs)
    format(max(
      abs(ours[[1]]$weights - bare$w_hidden), abs(ours[[1]]$bias - bare$b_hidden),
      abs(ours[[2]]$weights - bare$w_out), abs(ours[[2]]$bias - bare$b_out)
    ), digits = 3)
  },
  profile = function(what, epochs) {
    run <- runs[[what]]()
    run(0L)
    path <- tempfile(fileext = ".Rprof")
    on.exit(unlink(path))
    Rprof(path, interval = 0.001, line.profiling = TRUE, gc.profiling = TRUE)
    seconds <- timed(function() run(as.integer(epochs)))[[1]]
    Rprof(NULL)
    shares <- function(by_self, kind) {
      paste(kind, rownames(by_self), by_self$self.pct, sep = "\t")
    }
    c(
      paste("seconds", seconds, sep = "\t"),
      shares(summaryRprof(path)$by.self, "function"),
      shares(summaryRprof(path, lines = "show")$by.self, "line")
    )
  },
  steps = function(repeats) {
    repeats <- as.integer(repeats)
    z <- state$X %*% state$layers[[1]]$weights
    e <- state$y - 0.5
    n <- nrow(z)
    batch <- 1
    order <- seq_len(n)
    steps <- list(
      "exp(-z)" = function() exp(-z),
      "1 / (1 + e)" = function() 1 / (1 + z),
      "a * (1 - a)" = function() z * (1 - z),
      "column sums" = function() colSums(z),
      "column sums, .colSums" = function() .colSums(z, n, ncol(z)),
      "the batch rows" = function() order[((batch - 1) * n + 1):min(batch * n, n)],
      "the loss" = function() is.finite(sum(e^2)),
      "a call of an empty function" = function() NULL
    )
    vapply(names(steps), function(step) {
      run <- steps[[step]]
      calls <- function(times) for (i in seq_len(times)) run()
      calls(1L) # compiled at its first call: not in the timing
      paste(step, timed(function() calls(repeats))[[1]] / repeats, sep = "\t")
    }, "")
  },
  collections = function(what, epochs) {
    run <- runs[[what]]()
    run(0L)
    invisible(gc())
    gcinfo(TRUE)
    on.exit(gcinfo(FALSE))
    said <- capture.output(invisible(run(as.integer(epochs))), type = "message")
    # gcinfo says of each collection "Garbage collection 12 = 8+2+2 (level 2) ...", then
    # the MB of cons cells and of vectors still in use after it.
    levels <- as.integer(sub(".*\\(level ([0-9])\\).*", "\\1", grep("(level", said, fixed = TRUE,
                                                                  value = TRUE)))
    vectors <- grep("Mbytes of vectors", said, fixed = TRUE, value = TRUE)
    vectors <- as.numeric(sub(" *([0-9.]+) Mbytes.*", "\\1", vectors))
    vapply(0:2, function(level) {
      paste(level, sum(levels == level), mean(vectors[levels == level]), sep = "\t")
    }, "")
  },
  allocations = function(what, epochs) {
    run <- runs[[what]]()
    run(0L)
    path <- tempfile(fileext = ".Rprofmem")
    on.exit(unlink(path))
    Rprofmem(path, threshold = 1e5)
    run(as.integer(epochs))
    Rprofmem(NULL)
    bytes <- as.numeric(sub(" *:.*", "", grep("^[0-9]+ *:", readLines(path), value = TRUE)))
    paste(length(bytes), sum(bytes), sep = "\t")
  },
  peak = function(what) {
    run <- runs[[what]]()
    run(0L)
    before <- gc(reset = TRUE)[["Vcells", "used"]]
    run(1L)
    after <- gc()
    (after[["Vcells", "max used"]] - before) * 8 / 1e6
  }
)

input <- file("stdin", open = "r")
repeat {
  line <- readLines(input, n = 1)
  if (length(line) == 0) {
    break
  }
  words <- strsplit(line, " ", fixed = TRUE)[[1]]
  answer <- tryCatch(
    do.call(commands[[words[[1]]]], as.list(words[-1])),
    error = function(e) c("error", conditionMessage(e))
  )
  cat(answer, "end", sep = "\n")
  flush(stdout())
}
