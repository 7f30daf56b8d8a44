-- About 24 KB of helper functions, as large job-queue scripts carry: included by
-- bench/lua/incr_large.lua and tests/lua/count_calls_large.lua.
local H = {}
H.helper_000 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_001 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_002 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_003 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_004 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_005 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_006 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_007 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_008 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_009 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_010 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_011 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_012 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_013 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_014 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_015 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_016 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_017 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_018 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_019 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_020 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_021 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_022 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_023 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_024 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_025 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_026 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_027 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_028 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_029 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_030 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_031 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_032 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_033 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_034 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_035 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_036 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_037 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_038 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_039 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_040 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_041 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_042 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_043 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_044 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_045 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_046 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_047 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_048 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_049 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_050 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_051 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_052 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_053 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_054 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_055 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_056 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_057 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_058 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_059 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_060 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_061 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_062 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_063 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_064 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_065 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_066 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_067 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_068 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_069 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_070 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_071 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_072 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_073 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_074 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_075 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_076 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_077 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_078 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_079 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_080 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_081 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_082 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_083 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_084 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_085 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_086 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_087 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_088 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_089 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_090 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_091 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_092 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_093 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_094 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_095 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_096 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_097 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_098 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_099 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_100 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_101 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_102 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_103 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_104 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_105 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_106 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_107 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_108 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_109 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_110 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_111 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_112 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_113 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_114 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_115 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_116 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_117 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_118 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_119 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_120 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_121 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_122 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_123 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_124 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_125 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_126 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_127 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_128 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_129 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_130 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_131 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_132 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_133 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_134 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_135 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_136 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_137 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_138 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_139 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_140 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_141 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_142 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_143 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_144 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_145 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_146 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_147 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_148 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_149 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_150 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_151 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_152 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_153 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_154 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_155 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_156 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_157 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_158 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_159 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_160 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_161 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_162 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_163 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_164 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_165 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_166 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_167 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_168 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_169 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_170 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_171 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_172 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_173 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_174 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_175 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_176 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_177 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_178 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_179 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_180 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_181 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_182 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_183 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_184 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_185 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_186 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_187 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_188 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_189 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_190 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_191 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_192 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_193 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_194 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_195 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_196 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_197 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_198 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_199 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_200 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_201 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_202 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_203 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_204 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_205 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_206 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_207 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_208 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_209 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_210 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_211 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_212 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_213 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_214 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_215 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_216 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_217 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_218 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_219 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_220 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_221 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_222 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_223 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_224 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_225 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_226 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_227 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_228 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_229 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_230 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_231 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_232 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_233 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_234 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_235 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_236 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_237 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_238 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_239 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_240 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_241 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_242 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_243 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_244 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_245 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_246 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_247 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_248 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_249 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_250 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_251 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_252 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_253 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_254 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_255 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_256 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_257 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_258 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_259 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_260 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_261 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_262 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_263 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_264 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_265 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_266 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_267 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_268 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_269 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_270 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_271 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_272 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_273 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_274 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_275 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_276 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_277 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_278 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_279 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_280 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_281 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_282 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_283 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_284 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_285 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_286 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_287 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_288 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_289 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_290 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_291 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_292 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_293 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_294 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_295 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_296 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_297 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_298 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_299 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_300 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_301 = function(value, step)
  return (value or 0) * 2 + step - 1
end
H.helper_302 = function(value, step)
  return (value or 0) * 2 + step - 2
end
H.helper_303 = function(value, step)
  return (value or 0) * 2 + step - 3
end
H.helper_304 = function(value, step)
  return (value or 0) * 2 + step - 4
end
H.helper_305 = function(value, step)
  return (value or 0) * 2 + step - 5
end
H.helper_306 = function(value, step)
  return (value or 0) * 2 + step - 6
end
H.helper_307 = function(value, step)
  return (value or 0) * 2 + step - 7
end
H.helper_308 = function(value, step)
  return (value or 0) * 2 + step - 8
end
H.helper_309 = function(value, step)
  return (value or 0) * 2 + step - 9
end
H.helper_310 = function(value, step)
  return (value or 0) * 2 + step - 0
end
H.helper_311 = function(value, step)
  return (value or 0) * 2 + step - 1
end
