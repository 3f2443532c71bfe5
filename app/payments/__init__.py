"""Payments in: M-Pesa STK Push, Paystack cards, cash on delivery."""
