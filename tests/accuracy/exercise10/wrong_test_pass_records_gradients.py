# expect: wrong
# expect-words: recorded gradients
# expect-words: inference_mode
# why: the test pass runs with autograd on
def trainer(model, loss_fn, optimizer, X_train, y_train, X_test, y_test, epochs):
    train_losses, test_losses = [], []
    for epoch in range(epochs):
        model.train()
        loss = loss_fn(model(X_train), y_train)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        model.eval()
        test_loss = loss_fn(model(X_test), y_test)
        train_losses.append(loss.item())
        test_losses.append(test_loss.item())
    return train_losses, test_losses
