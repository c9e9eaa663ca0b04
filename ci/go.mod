module dagger/orders

go 1.26.1

require (
	dagger.io/dagger v0.21.8
	github.com/orders-platform/orders v0.0.0
)

replace github.com/orders-platform/orders => ../
