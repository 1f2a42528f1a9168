module example.com/covermod

go 1.22
