"""The love supermarket (爱心超市): items, stock, orders held until pickup at the counter."""
