# expect: correct
# why: zero_grad before the forward pass, float() instead of .item()
import torch


def trainer(model, loss_fn, optimizer, X_train, y_train, X_test, y_test, epochs):
    history = {"train": [], "test": []}
    for _ in range(epochs):
        model.train()
        optimizer.zero_grad()
        loss = loss_fn(model(X_train), y_train)
        loss.backward()
        optimizer.step()
        history["train"].append(float(loss))
        model.eval()
        with torch.inference_mode():
            history["test"].append(float(loss_fn(model(X_test), y_test)))
    return history["train"], history["test"]
