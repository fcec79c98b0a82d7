module blackfriday/tools/go-forwarder

go 1.22
