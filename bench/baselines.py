"""What nnscratch is measured against: the article's loop written out bare in numpy and in
torch, the five matrix products of an epoch alone, and scikit-learn's MLPRegressor."""

import numpy as np


def article_numpy_loop(X, y, w_hidden, b_hidden, w_out, b_out, lr, epochs):
    """The article's numpy loop, its steps written out bare: the baseline, float64.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples, n_outputs)
    w_hidden : ndarray of shape (n_features, n_hidden)
    b_hidden : ndarray of shape (n_hidden,)
    w_out : ndarray of shape (n_hidden, n_outputs)
    b_out : ndarray of shape (n_outputs,)
    lr : float
    epochs : int

    Returns
    -------
    w_hidden, b_hidden, w_out, b_out : ndarray
        After training (copies; the arguments are left as they were).
    """
    w_hidden, b_hidden, w_out, b_out = (a.copy() for a in (w_hidden, b_hidden, w_out, b_out))
    for _ in range(epochs):
        hidden = 1 / (1 + np.exp(-(X @ w_hidden + b_hidden)))
        output = 1 / (1 + np.exp(-(hidden @ w_out + b_out)))
        error = y - output
        delta_out = error * (output * (1 - output))
        delta_hidden = (delta_out @ w_out.T) * (hidden * (1 - hidden))
        w_out += hidden.T @ delta_out * lr
        b_out += delta_out.sum(axis=0) * lr
        w_hidden += X.T @ delta_hidden * lr
        b_hidden += delta_hidden.sum(axis=0) * lr
    return w_hidden, b_hidden, w_out, b_out


def torch_loop(torch, X, y, w_hidden, b_hidden, w_out, b_out, lr, epochs):
    """:func:`article_numpy_loop`'s lines on torch tensors (float64, on the CPU).

    The arguments are numpy arrays, as there; the data are shared with torch, not copied.
    Returns the four trained arrays as numpy arrays.
    """
    X, y = torch.from_numpy(X), torch.from_numpy(y)
    w_hidden, b_hidden, w_out, b_out = (
        torch.from_numpy(a.copy()) for a in (w_hidden, b_hidden, w_out, b_out)
    )
    for _ in range(epochs):
        hidden = 1 / (1 + torch.exp(-(X @ w_hidden + b_hidden)))
        output = 1 / (1 + torch.exp(-(hidden @ w_out + b_out)))
        error = y - output
        delta_out = error * (output * (1 - output))
        delta_hidden = (delta_out @ w_out.T) * (hidden * (1 - hidden))
        w_out += hidden.T @ delta_out * lr
        b_out += delta_out.sum(dim=0) * lr
        w_hidden += X.T @ delta_hidden * lr
        b_hidden += delta_hidden.sum(dim=0) * lr
    return tuple(a.numpy() for a in (w_hidden, b_hidden, w_out, b_out))


def five_gemms(X, layers):
    """The five matrix products of an epoch, into arrays made once: the floor.

    Returns a function of the number of epochs that runs them.
    """
    w_hidden, w_out = layers[0].weights, layers[1].weights
    n = X.shape[0]
    hidden = np.full((n, w_hidden.shape[1]), 0.5)
    delta_out = np.full((n, w_out.shape[1]), 0.1)
    delta_hidden = np.full_like(hidden, 0.1)
    z_hidden, error_hidden = np.empty_like(hidden), np.empty_like(hidden)
    z_out = np.empty_like(delta_out)
    grad_hidden, grad_out = np.empty_like(w_hidden), np.empty_like(w_out)

    def run(epochs):
        for _ in range(epochs):
            np.matmul(X, w_hidden, out=z_hidden)
            np.matmul(hidden, w_out, out=z_out)
            np.matmul(delta_out, w_out.T, out=error_hidden)
            np.matmul(hidden.T, delta_out, out=grad_out)
            np.matmul(X.T, delta_hidden, out=grad_hidden)

    return run


def mlp_regressor(n_hidden, lr, epochs, n_samples):
    """scikit-learn's MLPRegressor set to plain full-batch gradient descent.

    Its loss is ours (the mean of (y - output)^2 / 2), but its gradient is divided by the
    number of samples where ours is summed over them: ``learning_rate_init = lr *
    n_samples`` makes the same update. Its output layer is linear (the regressor has no
    other); :func:`check_agreement` shows that, with a linear output layer in nnscratch
    too, both compute the same numbers.
    """
    from sklearn.neural_network import MLPRegressor

    return MLPRegressor(
        hidden_layer_sizes=(n_hidden,),
        activation="logistic",
        solver="sgd",
        alpha=0.0,
        batch_size=n_samples,
        learning_rate="constant",
        learning_rate_init=lr * n_samples,
        momentum=0.0,
        nesterovs_momentum=False,
        max_iter=epochs,
        shuffle=False,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        early_stopping=False,
        random_state=0,
    )


def scikit_learn_target(y):
    """y as MLPRegressor takes it: one column as a vector."""
    return y[:, 0] if y.shape[1] == 1 else y


def import_torch():
    """torch on one thread, or None with why: (torch, reason)."""
    try:
        import torch
    except ImportError as error:
        return None, f"torch is not installed ({error}); scripts/setup --bench installs it"
    torch.set_num_threads(1)
    return torch, ""
