<?php
// Upload echo for t/compose.t behind mod_proxy_fcgi: reads the whole body
// and reports its length, MD5 and SHA-256, the Expect field it sees
// (HTTP_EXPECT) and EXPECT_OUTCOME, with the keys of t/htdocs/cgi/echo.pl.
$body = file_get_contents('php://input');
header('Content-Type: application/json');
echo json_encode([
    'bytes'   => strlen($body),
    'md5'     => md5($body),
    'sha256'  => hash('sha256', $body),
    'expect'  => $_SERVER['HTTP_EXPECT'] ?? null,
    'outcome' => $_SERVER['EXPECT_OUTCOME'] ?? null,
    'method'  => $_SERVER['REQUEST_METHOD'],
    'handler' => 'php-fpm',
]), "\n";
