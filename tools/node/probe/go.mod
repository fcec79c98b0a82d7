// The NetworkPolicy test's pod program (tools/node/build.sh probe). Standard library only.
module blackfriday.invalid/tools/node/probe

go 1.24
