# expect: wrong
# expect-words: every number | one per row | number of samples
# why: __len__ returns how many numbers the data holds, not how many rows
from torch.utils.data import DataLoader, Dataset, random_split


class IRISDataset(Dataset):
    def __init__(self, data, target):
        self.data, self.target = data, target

    def __len__(self):
        return self.data.nelement()

    def __getitem__(self, idx):
        return self.data[idx], self.target[idx]


def make_loaders(dataset, generator):
    train_set, val_set, test_set = random_split(dataset, [0.7, 0.2, 0.1], generator=generator)
    train_loader = DataLoader(train_set, batch_size=10, shuffle=True, generator=generator)
    val_loader = DataLoader(val_set, batch_size=10)
    test_loader = DataLoader(test_set, batch_size=10)
    return train_loader, val_loader, test_loader
