"""The 15-minute service circle (15分钟近邻服务圈): providers, offers, vouchers, ratings, statements."""
