/* Errata: corrections a script's upstream has made since ../shared/conformance
 * copied it, applied before the script is parsed. Each names its source, must
 * find the line as shipped (so a stale one fails loudly), and is reported
 * with the result it helped to: the table also shows the as-shipped run. */
#ifndef CONFORM_ERRATA_H
#define CONFORM_ERRATA_H

#include <stddef.h>

/* table: the errata file's text, lines of
 *   script<TAB>line<TAB>as shipped<TAB>as corrected<TAB>source
 * ('#' comments, blank lines). A row applies to path when path is its script
 * or ends in "/script". Each applying row replaces that line of *text (a
 * whole line, as shipped, without its newline) and *text is replaced by a
 * malloc'd copy (the caller frees the old one only when the count > 0).
 * Returns how many rows applied, with "line N (source); ..." in note, or -1
 * with a one-line message in err: a malformed row, or a line that does not
 * read as the erratum expects. */
int errata_apply(const char *table, const char *path, char **text, char *note, size_t notelen,
                 char *err, size_t errlen);

#endif
