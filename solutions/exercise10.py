"""Reference solution for exercise 10: a training loop with a test pass after every epoch."""
import torch


def trainer(model, loss_fn, optimizer, X_train, y_train, X_test, y_test, epochs):
    train_losses, test_losses = [], []
    for epoch in range(epochs):
        model.train()
        y_pred = model(X_train)
        loss = loss_fn(y_pred, y_train)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        model.eval()
        with torch.inference_mode():
            test_pred = model(X_test)
            test_loss = loss_fn(test_pred, y_test)
        train_losses.append(loss.item())
        test_losses.append(test_loss.item())
    return train_losses, test_losses
