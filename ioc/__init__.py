"""The IOC's subsystems: connectors that bring their figures in, time series, health, threshold alerts."""
