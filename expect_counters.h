/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND.
 */

/*
 * expect_counters.h: per-virtual-host counts of Expect requests and their
 * outcomes, shared by every child in anonymous shared memory and shown by
 * mod_status (/server-status, and "Expect...: N" lines in ?auto).
 */

#ifndef EXPECT_COUNTERS_H
#define EXPECT_COUNTERS_H

#include "httpd.h"

typedef enum {
    EXPECT_COUNT_REQUESTS = 0,  /* requests that carried a non-empty Expect */
    EXPECT_COUNT_REJECTED,
    EXPECT_COUNT_IMMEDIATE,
    EXPECT_COUNT_CONTINUE,
    EXPECT_COUNT_ACCEPTED,
    EXPECT_COUNT_IGNORED,
    EXPECT_COUNTERS
} expect_counter_e;

/* Count one event for the virtual host that serves r. */
void expect_count(request_rec *r, expect_counter_e which);

/* Called from the module's register_hooks. */
void expect_counters_register_hooks(void);

#endif /* EXPECT_COUNTERS_H */
