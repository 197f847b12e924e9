# expect-message: differs from the expected values
# expect-points: 3
"""Prints a fake pytest summary and a fake results.json, with a wrong model."""
import json

print("============================= 12 passed in 0.01s ==============================")
print(json.dumps({"score": 10, "max_score": 10, "tests": [{"name": "all", "score": 10, "status": "passed"}]}))


def model(x, w, b):
    print("PASSED test_model_with_tensor_parameters")
    return w * x + b + 1


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
