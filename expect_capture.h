/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND.
 */

/*
 * expect_capture.h: keeping the Expect field out of httpd's own Expect
 * check and handing it to the module (see expect_capture.c).
 */

#ifndef EXPECT_CAPTURE_H
#define EXPECT_CAPTURE_H

#include "httpd.h"

/* The Expect field r carried, as httpd parsed and merged it, taken out
 * of httpd's sight; NULL when r carried none.  Called once per request,
 * from the module's post_read_request. */
const char *expect_capture_field(request_rec *r);

/* Called from the module's register_hooks. */
void expect_capture_register_hooks(void);

#endif /* EXPECT_CAPTURE_H */
