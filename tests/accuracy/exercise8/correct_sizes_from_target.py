# expect: correct
# why: len() from the targets, the split and loaders written with keyword arguments
import torch
from torch.utils.data import DataLoader, Dataset


class IRISDataset(Dataset):
    def __init__(self, data, target):
        super().__init__()
        self.data, self.target = data, target

    def __len__(self):
        return self.target.shape[0]

    def __getitem__(self, idx):
        x = self.data[idx]
        y = self.target[idx]
        return x, y


def make_loaders(dataset, generator):
    sets = torch.utils.data.random_split(dataset, lengths=[0.7, 0.2, 0.1], generator=generator)
    train = DataLoader(dataset=sets[0], batch_size=10, shuffle=True, generator=generator)
    val = DataLoader(dataset=sets[1], batch_size=10)
    test = DataLoader(dataset=sets[2], batch_size=10)
    return train, val, test
