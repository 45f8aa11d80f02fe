/* font3x5: a tiny bitmap font for the explorer's HUD (upper and lower
 * case, digits and printable punctuation), so the HUD needs no font file. */
#ifndef WORLDKV_FONT3X5_H
#define WORLDKV_FONT3X5_H

#define FONT_W 3
#define FONT_H 5

/* The glyph's 5 rows, 3 bits each (bit 2 is the left column); unknown characters give a box. */
const unsigned char *font_glyph(char c);

#endif
