module github.com/stride-oss/stride

go 1.26
