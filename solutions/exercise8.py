"""Reference solution for exercise 8: a Dataset, a random split and three DataLoaders."""
from torch.utils.data import DataLoader, Dataset, random_split


class IRISDataset(Dataset):
    def __init__(self, data, target):
        self.data = data
        self.target = target

    def __len__(self):
        return len(self.data)

    def __getitem__(self, idx):
        return self.data[idx], self.target[idx]


def make_loaders(dataset, generator):
    train_set, val_set, test_set = random_split(dataset, [0.7, 0.2, 0.1], generator=generator)
    train_loader = DataLoader(train_set, batch_size=10, shuffle=True, generator=generator)
    val_loader = DataLoader(val_set, batch_size=10, shuffle=False)
    test_loader = DataLoader(test_set, batch_size=10, shuffle=False)
    return train_loader, val_loader, test_loader
