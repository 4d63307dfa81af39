"""Weekly coaching: the batch that writes plans and tips, feedback on tips, digests."""
