# expect: wrong
# expect-words: before training | after the step | order | one epoch late | before the step
# why: measures the test loss at the start of each epoch, before that epoch's training step
"""Exercise 10 - Train and test.

Training makes the loss on the training data go down; only data the model
never trained on (the test data) shows whether it learnt something that
holds beyond it. So after every epoch of training, measure the loss on the
test data too, and keep both curves.

trainer(model, loss_fn, optimizer, X_train, y_train, X_test, y_test, epochs)
    model       an nn.Module (it may hold dropout).
    loss_fn     e.g. nn.L1Loss() (the mean absolute error), nn.MSELoss() or
                nn.CrossEntropyLoss().
    optimizer   a torch.optim optimizer built on model.parameters().
    X_train, y_train, X_test, y_test   tensors: inputs and targets.
    epochs      int, how many epochs.
    Each epoch:
      1. model.train(): training mode (dropout drops features, batch norm
         learns), since the test pass of the epoch before left the model
         in evaluation mode;
         the predictions on X_train, their loss against y_train, clear the
         gradients (optimizer.zero_grad()), loss.backward(), optimizer.step();
      2. model.eval(): evaluation mode (dropout off, batch norm fixed), and
         under torch.inference_mode() (autograd records no graph: faster,
         less memory; the test pass never calls backward() and never steps)
         the predictions on X_test and their loss against y_test.
    Returns (train_losses, test_losses): two lists of `epochs` Python floats
    (loss.item()), each epoch's training loss (before its step) and test loss.

Do not print anything: the grader reads what you return.
"""
import torch


def trainer(model, loss_fn, optimizer, X_train, y_train, X_test, y_test, epochs):
    """Train for `epochs` epochs, testing after each; returns (train_losses, test_losses)."""
    train_losses, test_losses = [], []
    for epoch in range(epochs):
        model.eval()
        with torch.inference_mode():
            test_pred = model(X_test)
            test_loss = loss_fn(test_pred, y_test)
        test_losses.append(test_loss.item())

        model.train()
        y_pred = model(X_train)
        loss = loss_fn(y_pred, y_train)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        train_losses.append(loss.item())
    return train_losses, test_losses


# Check your work:  grade exercise10


if __name__ == "__main__":  # python exercise10.py: predict petal width from petal length (iris.csv, beside this file)
    import csv
    from pathlib import Path

    with open(Path(__file__).with_name("iris.csv"), newline="") as file:
        rows = [[float(v) for v in row] for row in list(csv.reader(file))[1:]]
    table = torch.tensor(rows)[torch.randperm(150, generator=torch.Generator().manual_seed(42))]
    x, y = table[:, 2:3], table[:, 3:4]
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.Dropout(0.1), torch.nn.Linear(8, 1))
    train_losses, test_losses = trainer(model, torch.nn.L1Loss(), torch.optim.SGD(model.parameters(), lr=0.05),
                                        x[:120], y[:120], x[120:], y[120:], 200)
    for epoch in (0, 49, 99, 199):
        print(f"epoch {epoch + 1}: train L1 {train_losses[epoch]:.3f}, test L1 {test_losses[epoch]:.3f}")
